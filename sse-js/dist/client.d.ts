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
/** No `EventSource` implementation, or it rejected the URL. */
 | 'unsupported';
/** What went wrong, as found in {@link ConnectionState.error}. */
export interface ConnectionError {
    reason: ConnectionErrorReason;
    message: string;
    /**
     * The HTTP status of a refusal, when the EventSource implementation reports it. Browsers'
     * EventSource does not; the `eventsource` package for Node does.
     */
    status?: number;
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
/** The part of an EventSource the client uses. */
export interface EventSourceLike {
    addEventListener(type: string, listener: (event: Event) => void): void;
    close(): void;
}
/** A constructor of EventSources: the browser's, the `eventsource` package's, or a fake. */
export type EventSourceConstructor = new (url: string, init?: {
    withCredentials?: boolean;
}) => EventSourceLike;
/** Options of {@link SSEClient}. */
export interface SSEClientOptions {
    /** Channels to subscribe to (`channels=` in the query); the endpoint's defaults if absent. */
    channels?: readonly ChannelName[];
    /** Sent as `token=` in the query, for servers whose authenticator reads it. */
    token?: string;
    /** A cursor to resume from on the first connect (e.g. one saved across page loads). */
    lastEventId?: string;
    /** Connect in the constructor (default `true`). */
    autoConnect?: boolean;
    /** Reconnects tried after a failure before the state becomes `error` (default 5). */
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
    private source;
    /** Event types with a listener on the current EventSource. */
    private readonly sourceTypes;
    /** Whether the current EventSource fired `open`. */
    private opened;
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
    private listen;
    private streamUrl;
    private onOpen;
    private onEvent;
    private onConnectionError;
    private armWatchdog;
    private scheduleReconnect;
    private teardown;
    private clearWatchdog;
    private clearReconnectTimer;
    private emit;
    private setState;
}
