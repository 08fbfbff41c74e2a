import { type BroadcastChannelConstructor, type LockManagerLike } from './share.js';
import { type EventSourceConstructor, type TransportFactory } from './transport.js';
import type { ChannelName, ConnectedData, Envelope, EventType, HeartbeatData, HistoryGapData } from './types.js';
/** Where a client stands. */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'error' | 'closed';
/** Why the last connection attempt failed or the last connection ended. */
export type ConnectionErrorReason = 
/** The stream never opened: refused (HTTP 4xx/5xx), unreachable, or not an event stream. */
'connection-failed'
/** An open stream ended or broke. */
 | 'connection-lost'
/** No event (not even a heartbeat) arrived within the heartbeat timeout. */
 | 'heartbeat-timeout'
/**
 * The server ended the stream because the credentials expired or were revoked (a `refresh`
 * event with reason `auth-expired`): the client reconnects at once with a fresh token.
 */
 | 'auth-expired'
/** The user is banned (HTTP 403 `banned`): the client stops; `until` says for how long. */
 | 'banned'
/** The server answered 204 No Content: it asks the client not to reconnect, and it stops. */
 | 'server-closed'
/** No `EventSource` (or `fetch`) implementation, or it rejected the URL. */
 | 'unsupported'
/** The `token` function threw or its promise rejected. */
 | 'token-failed';
/** What went wrong, as found in {@link ConnectionState.error}. */
export interface ConnectionError {
    reason: ConnectionErrorReason;
    message: string;
    /**
     * The HTTP status of a refusal, when the transport sees it: the fetch transport always, the
     * `eventsource` package for Node too; browsers' EventSource never.
     */
    status?: number;
    /** The refusal's `error` code (`unauthorized`, `too_many_requests`, `banned`, ...). */
    code?: string;
    /** `Retry-After` of a 429 or 503, in milliseconds: the next attempt waits at least this. */
    retryAfter?: number;
    /** The end of a ban, in milliseconds since the Unix epoch. */
    until?: number;
}
/** A snapshot of a client's connection. A new object is made for every change. */
export interface ConnectionState {
    status: ConnectionStatus;
    /** The server's id for the open connection, from its `connected` event. */
    connectionId?: string;
    /** The cursor of the last message received: where a reconnect resumes. */
    lastEventId?: string;
    /** The reconnect attempt under way or waited for (1 for the first); 0 when none. */
    reconnectAttempt: number;
    /** Why the last attempt failed; kept while reconnecting and in the `error` state. */
    error?: ConnectionError;
}
/**
 * An event handler: `data` is the message payload (`envelope.data`), `envelope` the whole
 * message. Heartbeats have no envelope on the wire; theirs is made up (see the README).
 */
export type SSEEventHandler<T = any> = (data: T, envelope: Envelope<T>) => void;
/** The payload types of the events whose shape the client knows. */
export interface SSEEventMap {
    connected: ConnectedData;
    heartbeat: HeartbeatData;
    'history-gap': HistoryGapData;
}
/**
 * What a listener can be registered for: an event type, `'history-gap'` (the `refresh` event
 * whose reason is `history-gap`), or `'*'` for every event.
 */
export type ListenerType = EventType | 'history-gap' | '*';
/** The signature of `addEventListener` and `removeEventListener`. */
export interface ListenerMethod {
    <K extends keyof SSEEventMap>(type: K, handler: SSEEventHandler<SSEEventMap[K]>): void;
    <T = any>(type: ListenerType, handler: SSEEventHandler<T>): void;
}
export type { EventSourceConstructor, EventSourceLike } from './transport.js';
/** Options of {@link SSEClient}. */
export interface SSEClientOptions {
    /** Channels to subscribe to (`channels=` in the query); the endpoint's defaults if absent. */
    channels?: readonly ChannelName[];
    /**
     * The credentials: a token, or a function asked for one before every connection attempt
     * (every reconnect, and at once after an `auth-expired` refresh), which may return a
     * promise. The EventSource transport sends it as `token=` in the query; the fetch transport
     * as `Authorization: Bearer <token>`.
     */
    token?: string | (() => string | Promise<string>);
    /**
     * How to reach the stream: `'eventsource'` (the default: the browser's EventSource, or the
     * `EventSource` option), `'fetch'` (a streaming fetch that sends headers and sees the
     * status, `Retry-After` and `retry:`), or a {@link TransportFactory} of your own.
     */
    transport?: 'eventsource' | 'fetch' | TransportFactory;
    /**
     * With the EventSource transport, learn why a stream could not be opened by asking once more
     * with `fetch` (default `true` where `fetch` exists): an EventSource hides the status of a
     * refusal, so without it a ban (stop) or a 204 (stop) look like a 503 (retry).
     */
    probe?: boolean;
    /**
     * One connection per browser (opt-in): the tabs of this origin that share a name share one
     * stream. One tab (the leader, elected with the Web Locks API) holds it and passes every
     * event and state change to the others over a BroadcastChannel; when its tab closes, the
     * next tab takes over within moments, resuming from the last event id. `true` names the
     * group by URL and channels; a string names it. Where the browser lacks Web Locks or
     * BroadcastChannel, each tab connects on its own.
     */
    share?: boolean | string;
    /** The LockManager of `share` (default `navigator.locks`). */
    locks?: LockManagerLike;
    /** The BroadcastChannel of `share` (default `globalThis.BroadcastChannel`). */
    BroadcastChannel?: BroadcastChannelConstructor;
    /** Headers for every request (the fetch transport only). */
    headers?: Record<string, string>;
    /** The fetch implementation of the fetch transport (default `globalThis.fetch`). */
    fetch?: typeof fetch;
    /** A cursor to resume from on the first connect (e.g. one saved across page loads). */
    lastEventId?: string;
    /** Connect in the constructor (default `true`). */
    autoConnect?: boolean;
    /**
     * Reconnects tried in a row after a failure before the state becomes `error` (default
     * `Infinity`: keep trying, with the backoff capped at `maxReconnectDelay`).
     */
    reconnectAttempts?: number;
    /** Nominal delay before the first reconnect, in ms (default 1000); doubles per attempt. */
    reconnectDelay?: number;
    /** Cap of the nominal reconnect delay, in ms (default 30000). */
    maxReconnectDelay?: number;
    /** Share of each delay that is randomised away, 0 to 1 (default 0.5). */
    jitter?: number;
    /**
     * Reconnect when no event arrives within this many heartbeat intervals (default 2.5); the
     * interval comes from the `connected` event. 0 turns the watchdog off.
     */
    heartbeatTimeoutFactor?: number;
    /** Passed to the EventSource: send cookies on cross-origin requests. */
    withCredentials?: boolean;
    /** The EventSource implementation (default `globalThis.EventSource`). */
    EventSource?: EventSourceConstructor;
    /**
     * Extra event names to receive even without a listener of their own, for `'*'` listeners.
     * The built-in types and every type with a listener are always received.
     */
    eventTypes?: readonly string[];
}
/**
 * A connection to an SSE stream of the universal SSE server.
 *
 * It wraps an EventSource but manages reconnects itself: when the stream fails or ends, it
 * closes the EventSource and opens a new one after an exponential backoff with jitter, passing
 * the last cursor as `lastEventId=` so that the server replays what was missed. After
 * `reconnectAttempts` failed reconnects in a row the state becomes `error` and the client waits
 * for {@link SSEClient.reconnect} (a refused request, e.g. HTTP 401, fails every attempt and so
 * ends there too). A watchdog reconnects when the stream goes silent for longer than
 * `heartbeatTimeoutFactor` heartbeat intervals.
 *
 * @example
 * ```ts
 * const client = new SSEClient('/api/sse/stream', { channels: ['notifications', 'toasts'] });
 * client.addEventListener('toast', (data) => showToast(data.message, data.type));
 * client.onStateChange((state) => console.log(state.status));
 * ```
 */
export declare class SSEClient {
    /** The stream URL without the query parameters the client adds. */
    readonly url: string;
    private readonly options;
    private readonly listeners;
    private readonly stateListeners;
    private state;
    private last;
    /** The current connection attempt or stream; also set while a token is being fetched. */
    private transport;
    /** Counts connection attempts, so that a late token or transport callback is ignored. */
    private generation;
    /** Whether a connection attempt is under way (its token may still be on its way). */
    private opening;
    /** The server's `retry:` hint (fetch transport), for the reconnect after an open stream. */
    private retryHint;
    /** This tab's membership of a shared connection (`share`). */
    private shared;
    /** Event types other tabs of a shared connection need delivered. */
    private readonly sharedTypes;
    /** Reconnects tried since the last successful open. */
    private attempt;
    private reconnectTimer;
    private watchdogTimer;
    /** Watchdog timeout for the current connection, once its `connected` event arrived. */
    private watchdogMs;
    constructor(url: string, options?: SSEClientOptions);
    /** The current connection state. */
    get connectionState(): ConnectionState;
    /** Whether the stream is open. */
    get isConnected(): boolean;
    /** The envelope of the last event received other than a heartbeat, or `null`. */
    get lastEvent(): Envelope | null;
    /**
     * Opens the stream. Does nothing while a connection is open, being opened or waiting for a
     * reconnect; from `closed` or `error` it starts afresh, resuming from the last cursor.
     */
    connect(): void;
    /**
     * With `share`: `'leader'` when this tab holds the shared stream, `'follower'` when another
     * tab does; `null` without sharing.
     */
    get sharing(): 'leader' | 'follower' | null;
    private get follower();
    private onShareMessage;
    /** The event types this tab's listeners need. */
    private wireTypes;
    /**
     * Drops the current connection, if any, and connects again at once with a fresh budget of
     * reconnect attempts, resuming from the last cursor.
     */
    reconnect(): void;
    /** Closes the stream and stops every timer. Listeners stay registered for a later `connect`. */
    close(): void;
    /** Registers `handler` for events of `type`; registering the same handler twice has no effect. */
    readonly addEventListener: ListenerMethod;
    /** Removes a handler registered with {@link SSEClient.addEventListener}. */
    readonly removeEventListener: ListenerMethod;
    /**
     * Calls `listener` with the new state after every change. Returns the function that
     * unsubscribes it.
     */
    onStateChange(listener: (state: ConnectionState) => void): () => void;
    private open;
    private tokenFailed;
    private start;
    private streamUrl;
    private onOpen;
    /** The EventSource reconnects by itself after the server's `retry:`. */
    private onNativeReconnect;
    private onEvent;
    /** The transport's connection is over: stop, or reconnect after the right delay. */
    private onEnd;
    private armWatchdog;
    private scheduleReconnect;
    private teardown;
    private clearWatchdog;
    private clearReconnectTimer;
    private emit;
    private setState;
}
/**
 * Reports an exception thrown by a listener without stopping the others (the React entry uses
 * it too; not part of the public API).
 *
 * @internal
 */
export declare function report(err: unknown): void;
//# sourceMappingURL=client.d.ts.map