/**
 * How the client reaches the stream: the browser's EventSource (the default), or a streaming
 * `fetch` that can send headers and sees the status, `Retry-After` and `retry:` fields.
 *
 * @module
 */
/** One connection attempt, as the client asks for it. */
export interface TransportRequest {
    /** The stream URL with the client's query parameters. */
    url: string;
    /** Headers to send (the fetch transport only: an EventSource cannot send any). */
    headers: Record<string, string>;
    /** The cursor to resume from, sent as `Last-Event-ID` by the fetch transport. */
    lastEventId?: string;
    /** Send cookies on cross-origin requests. */
    withCredentials: boolean;
    /** The event types to deliver (besides `open` and the end). */
    types: ReadonlySet<string>;
}
/** Why a transport's connection ended. */
export interface TransportEnd {
    /** Whether the stream had opened (HTTP 200 with an event stream) before it ended. */
    opened: boolean;
    /** The HTTP status of a refusal, when the transport can see it. */
    status?: number;
    /** `Retry-After` of a 429 or 503, in milliseconds. */
    retryAfterMs?: number;
    /** The refusal's JSON body (`{"error","message",...}`), when there was one. */
    body?: unknown;
    /** What happened, in words. */
    message: string;
}
/** What a transport reports to the client. */
export interface TransportHandlers {
    open(): void;
    event(type: string, data: string, lastEventId: string): void;
    /** A `retry:` field (the fetch transport; an EventSource applies it itself). */
    retry(ms: number): void;
    /**
     * The stream ended and the transport reconnects by itself (an EventSource whose open stream
     * ended: it waits the server's `retry:` and sends `Last-Event-ID`); `open` follows when it
     * succeeds, `end` when it gives up.
     */
    reconnecting(): void;
    /** The connection is over for good; the client decides what comes next. */
    end(end: TransportEnd): void;
}
/** A live connection attempt. */
export interface Transport {
    /** Starts delivering events of `type` too (a listener was added). */
    listen(type: string): void;
    /** Ends the connection; no handler is called after this. */
    close(): void;
}
/** Makes transports: {@link eventSourceTransport}, {@link fetchTransport}, or a test's own. */
export type TransportFactory = (request: TransportRequest, handlers: TransportHandlers) => Transport;
/** The part of an EventSource the client uses. */
export interface EventSourceLike {
    readonly readyState?: number;
    addEventListener(type: string, listener: (event: Event) => void): void;
    close(): void;
}
/** A constructor of EventSources: the browser's, the `eventsource` package's, or a fake. */
export type EventSourceConstructor = new (url: string, init?: {
    withCredentials?: boolean;
}) => EventSourceLike;
/** Options of {@link eventSourceTransport}. */
export interface EventSourceTransportOptions {
    /**
     * Learn why a stream could not be opened by asking once more with `fetch` (default `true`
     * where `fetch` exists): an EventSource hides the status and body of a refusal, so without
     * this the client cannot tell a ban or a 204 (stop) from a 503 (retry). The probe is made
     * only after a failure, and is closed at once if the server opens a stream for it.
     */
    probe?: boolean;
    /** The fetch of the probe (default `globalThis.fetch`). */
    fetch?: typeof fetch;
}
/**
 * The EventSource transport: `Impl` (default `globalThis.EventSource`) on the request's URL.
 *
 * An EventSource sends no headers (the token goes in the query) and does not show the status
 * of a refusal (the `eventsource` package for Node adds it as `code`; otherwise a probe finds
 * it, see {@link EventSourceTransportOptions.probe}); it applies `retry:` itself when an open
 * stream ends, reconnecting with `Last-Event-ID`.
 */
export declare function eventSourceTransport(Impl?: EventSourceConstructor, options?: EventSourceTransportOptions): TransportFactory;
/** Options of {@link fetchTransport}. */
export interface FetchTransportOptions {
    /** The fetch implementation (default `globalThis.fetch`). */
    fetch?: typeof fetch;
}
/**
 * The fetch transport: a streaming `fetch` parsed by the rules of the HTML standard. It sends
 * the request's headers (`Authorization` for a bearer token) and `Last-Event-ID`, sees the
 * status, the `Retry-After` header and the JSON body of a refusal, and reports `retry:`
 * fields; every reconnect is the client's.
 */
export declare function fetchTransport(options?: FetchTransportOptions): TransportFactory;
/** `Retry-After` in milliseconds: delay-seconds or an HTTP date. */
export declare function parseRetryAfter(value: string | null, now?: number): number | undefined;
/** The transport cannot run here (no EventSource or fetch, or a URL it rejects). */
export declare class TransportUnsupported extends Error {
}
//# sourceMappingURL=transport.d.ts.map