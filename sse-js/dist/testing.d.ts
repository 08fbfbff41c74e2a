/**
 * Test helpers (`@universal-sse/client/testing`): a fake EventSource to drive a client or the
 * React hooks from a test, and the server's envelopes.
 *
 * @example
 * ```ts
 * import { SSEClient } from '@universal-sse/client';
 * import { FakeEventSource, connectedEnvelope, envelope } from '@universal-sse/client/testing';
 *
 * const client = new SSEClient('/api/sse/stream', { EventSource: FakeEventSource, probe: false });
 * FakeEventSource.latest.open();
 * FakeEventSource.latest.emit('connected', connectedEnvelope());
 * FakeEventSource.latest.emit('toast', envelope('toasts', 'toast', { message: 'Saved' }), { id: '1-2-0' });
 * ```
 *
 * @module
 */
/**
 * A stand-in for the browser's EventSource that records what the client asks of it and lets a
 * test play the server: open the stream, send events (with or without `id:`) and fail it.
 *
 * Like a real EventSource it keeps a last-event-id buffer: an event without an id carries the
 * id of the last event that had one.
 */
export declare class FakeEventSource {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSED = 2;
    /** Every instance created since the last `reset`, oldest first. */
    static instances: FakeEventSource[];
    static reset(): void;
    /** The newest instance. */
    static get latest(): FakeEventSource;
    /** The URLs of every instance, in creation order. */
    static get urls(): string[];
    readonly url: string;
    readonly withCredentials: boolean;
    readyState: number;
    private readonly listeners;
    private lastEventIdBuffer;
    constructor(url: string, init?: {
        withCredentials?: boolean;
    });
    get closed(): boolean;
    addEventListener(type: string, listener: (event: Event) => void): void;
    removeEventListener(type: string, listener: (event: Event) => void): void;
    /** The event types that have a listener, sorted. */
    listenedTypes(): string[];
    close(): void;
    /** The response arrived: HTTP 200 with `text/event-stream`. */
    open(): void;
    /** The server sent an event; `data` is encoded as JSON unless it is a string. */
    emit(type: string, data: unknown, options?: {
        id?: string;
    }): void;
    /**
     * The connection failed or ended. `status` mimics the `code` that Node's `eventsource`
     * package adds to refusals; browsers report none.
     */
    fail(status?: number): void;
    private dispatch;
    private assertLive;
}
/** The `connected` event's data as the server writes it. */
export declare function connectedEnvelope(overrides?: Record<string, unknown>): unknown;
/** A message envelope as the server writes it in the `data:` line. */
export declare function envelope(channel: string, event: string, data: unknown, id?: string, timestamp?: number): {
    id: string;
    channel: string;
    event: string;
    data: unknown;
    timestamp: number;
};
//# sourceMappingURL=testing.d.ts.map