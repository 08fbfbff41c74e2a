import { backoffDelay } from './backoff.js';
/** The event types the client always listens for on its EventSource. */
const BUILTIN_EVENT_TYPES = [
    'message',
    'connected',
    'heartbeat',
    'data',
    'update',
    'refresh',
    'toast',
    'alert',
    'notification',
    'broadcast',
    'error',
    'custom',
];
const DEFAULTS = {
    autoConnect: true,
    reconnectAttempts: 5,
    reconnectDelay: 1000,
    maxReconnectDelay: 30000,
    jitter: 0.5,
    heartbeatTimeoutFactor: 2.5,
};
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
export class SSEClient {
    /** The stream URL without the query parameters the client adds. */
    url;
    options;
    listeners = new Map();
    stateListeners = new Set();
    state;
    last = null;
    source = null;
    /** Event types with a listener on the current EventSource. */
    sourceTypes = new Set();
    /** Whether the current EventSource fired `open`. */
    opened = false;
    /** Reconnects tried since the last successful open. */
    attempt = 0;
    reconnectTimer;
    watchdogTimer;
    /** Watchdog timeout for the current connection, once its `connected` event arrived. */
    watchdogMs = 0;
    constructor(url, options = {}) {
        this.url = url;
        const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
        this.options = { ...DEFAULTS, ...defined };
        this.state = freeze({
            status: 'closed',
            reconnectAttempt: 0,
            ...(options.lastEventId ? { lastEventId: options.lastEventId } : {}),
        });
        if (this.options.autoConnect) {
            this.connect();
        }
    }
    /** The current connection state. */
    get connectionState() {
        return this.state;
    }
    /** Whether the stream is open. */
    get isConnected() {
        return this.state.status === 'connected';
    }
    /** The envelope of the last event received other than a heartbeat, or `null`. */
    get lastEvent() {
        return this.last;
    }
    /**
     * Opens the stream. Does nothing while a connection is open, being opened or waiting for a
     * reconnect; from `closed` or `error` it starts afresh, resuming from the last cursor.
     */
    connect() {
        if (this.source !== null || this.reconnectTimer !== undefined) {
            return;
        }
        this.attempt = 0;
        this.setState({ status: 'connecting', reconnectAttempt: 0, error: undefined });
        this.open();
    }
    /**
     * Drops the current connection, if any, and connects again at once with a fresh budget of
     * reconnect attempts, resuming from the last cursor.
     */
    reconnect() {
        this.teardown();
        this.clearReconnectTimer();
        this.attempt = 0;
        this.setState({
            status: 'connecting',
            reconnectAttempt: 0,
            connectionId: undefined,
            error: undefined,
        });
        this.open();
    }
    /** Closes the stream and stops every timer. Listeners stay registered for a later `connect`. */
    close() {
        this.teardown();
        this.clearReconnectTimer();
        this.attempt = 0;
        this.setState({
            status: 'closed',
            reconnectAttempt: 0,
            connectionId: undefined,
            error: undefined,
        });
    }
    /** Registers `handler` for events of `type`; registering the same handler twice has no effect. */
    addEventListener = (type, handler) => {
        let set = this.listeners.get(type);
        if (set === undefined) {
            set = new Set();
            this.listeners.set(type, set);
        }
        set.add(handler);
        if (this.source !== null && type !== '*') {
            this.listen(this.source, wireType(type));
        }
    };
    /** Removes a handler registered with {@link SSEClient.addEventListener}. */
    removeEventListener = (type, handler) => {
        const set = this.listeners.get(type);
        if (set !== undefined) {
            set.delete(handler);
            if (set.size === 0) {
                this.listeners.delete(type);
            }
        }
    };
    /**
     * Calls `listener` with the new state after every change. Returns the function that
     * unsubscribes it.
     */
    onStateChange(listener) {
        this.stateListeners.add(listener);
        return () => {
            this.stateListeners.delete(listener);
        };
    }
    open() {
        const Impl = this.options.EventSource ??
            globalThis.EventSource;
        if (Impl === undefined) {
            this.setState({
                status: 'error',
                error: { reason: 'unsupported', message: 'no EventSource implementation is available' },
            });
            return;
        }
        let source;
        try {
            source = new Impl(this.streamUrl(), { withCredentials: this.options.withCredentials === true });
        }
        catch (err) {
            this.setState({
                status: 'error',
                error: { reason: 'unsupported', message: `the EventSource could not be created: ${String(err)}` },
            });
            return;
        }
        this.source = source;
        this.opened = false;
        this.sourceTypes.clear();
        source.addEventListener('open', () => {
            this.onOpen(source);
        });
        const types = new Set([...BUILTIN_EVENT_TYPES, ...(this.options.eventTypes ?? [])]);
        for (const type of this.listeners.keys()) {
            if (type !== '*') {
                types.add(wireType(type));
            }
        }
        for (const type of types) {
            this.listen(source, type);
        }
    }
    listen(source, type) {
        if (this.sourceTypes.has(type)) {
            return;
        }
        this.sourceTypes.add(type);
        source.addEventListener(type, (event) => {
            this.onEvent(source, type, event);
        });
    }
    streamUrl() {
        const params = [];
        const { channels, token } = this.options;
        if (channels !== undefined && channels.length > 0) {
            params.push(`channels=${channels.map((c) => encodeURIComponent(c)).join(',')}`);
        }
        const cursor = this.state.lastEventId;
        if (cursor !== undefined && cursor !== '') {
            params.push(`lastEventId=${encodeURIComponent(cursor)}`);
        }
        if (token !== undefined && token !== '') {
            params.push(`token=${encodeURIComponent(token)}`);
        }
        return appendQuery(this.url, params);
    }
    onOpen(source) {
        if (source !== this.source) {
            return;
        }
        this.opened = true;
        this.attempt = 0;
        this.setState({ status: 'connected', reconnectAttempt: 0, error: undefined });
    }
    onEvent(source, type, event) {
        if (source !== this.source) {
            return;
        }
        const message = event;
        if (typeof message.data !== 'string') {
            // Only a connection error is an `error` event without data; a server's `event: error`
            // arrives as a MessageEvent.
            if (type === 'error') {
                this.onConnectionError(event);
            }
            return;
        }
        const { data, envelope } = decode(type, message.data, message.lastEventId);
        const patch = {};
        if (typeof message.lastEventId === 'string' && message.lastEventId !== '') {
            patch.lastEventId = message.lastEventId;
        }
        if (type === 'connected' && isObject(data)) {
            const connected = data;
            if (typeof connected.connectionId === 'string') {
                patch.connectionId = connected.connectionId;
            }
            const interval = connected.heartbeatInterval;
            const factor = this.options.heartbeatTimeoutFactor;
            this.watchdogMs =
                typeof interval === 'number' && interval > 0 && factor > 0
                    ? Math.round(interval * factor)
                    : 0;
        }
        this.armWatchdog();
        if (type !== 'heartbeat') {
            this.last = envelope;
        }
        this.setState(patch);
        this.emit(type, data, envelope);
        if (type === 'refresh' && isObject(data) && data['reason'] === 'history-gap') {
            this.emit('history-gap', data, envelope);
        }
        this.emit('*', data, envelope);
    }
    onConnectionError(event) {
        const status = event.code;
        const wasOpen = this.opened;
        this.teardown();
        const error = wasOpen
            ? { reason: 'connection-lost', message: 'the stream ended or broke' }
            : { reason: 'connection-failed', message: 'the stream could not be opened' };
        if (typeof status === 'number') {
            error.status = status;
            error.message += ` (HTTP ${status})`;
        }
        this.scheduleReconnect(error);
    }
    armWatchdog() {
        this.clearWatchdog();
        if (this.watchdogMs > 0) {
            const source = this.source;
            const ms = this.watchdogMs;
            this.watchdogTimer = setTimeout(() => {
                this.watchdogTimer = undefined;
                if (source !== this.source) {
                    return;
                }
                this.teardown();
                this.scheduleReconnect({
                    reason: 'heartbeat-timeout',
                    message: `no event for ${ms} ms`,
                });
            }, ms);
        }
    }
    scheduleReconnect(error) {
        if (this.attempt >= this.options.reconnectAttempts) {
            this.setState({
                status: 'error',
                reconnectAttempt: this.attempt,
                connectionId: undefined,
                error,
            });
            return;
        }
        this.attempt += 1;
        const delay = backoffDelay(this.attempt, this.options);
        this.setState({
            status: 'reconnecting',
            reconnectAttempt: this.attempt,
            connectionId: undefined,
            error,
        });
        this.reconnectTimer = setTimeout(() => {
            this.reconnectTimer = undefined;
            this.open();
        }, delay);
    }
    teardown() {
        this.clearWatchdog();
        this.watchdogMs = 0;
        if (this.source !== null) {
            const source = this.source;
            this.source = null;
            this.opened = false;
            this.sourceTypes.clear();
            source.close();
        }
    }
    clearWatchdog() {
        if (this.watchdogTimer !== undefined) {
            clearTimeout(this.watchdogTimer);
            this.watchdogTimer = undefined;
        }
    }
    clearReconnectTimer() {
        if (this.reconnectTimer !== undefined) {
            clearTimeout(this.reconnectTimer);
            this.reconnectTimer = undefined;
        }
    }
    emit(type, data, envelope) {
        const set = this.listeners.get(type);
        if (set === undefined) {
            return;
        }
        for (const handler of [...set]) {
            try {
                handler(data, envelope);
            }
            catch (err) {
                report(err);
            }
        }
    }
    setState(patch) {
        const next = { ...this.state };
        for (const [key, value] of Object.entries(patch)) {
            if (value === undefined) {
                delete next[key];
            }
            else {
                next[key] = value;
            }
        }
        if (sameState(this.state, next)) {
            return;
        }
        this.state = freeze(next);
        for (const listener of [...this.stateListeners]) {
            try {
                listener(this.state);
            }
            catch (err) {
                report(err);
            }
        }
    }
}
/** The EventSource event that carries events of listener type `type`. */
function wireType(type) {
    return type === 'history-gap' ? 'refresh' : type;
}
/** Splits the JSON of a `data:` field into payload and envelope. */
function decode(type, raw, lastEventId) {
    let parsed = raw;
    try {
        parsed = JSON.parse(raw);
    }
    catch {
        // Not JSON: handlers get the text as it came.
    }
    if (isObject(parsed) &&
        typeof parsed['channel'] === 'string' &&
        typeof parsed['event'] === 'string' &&
        'data' in parsed) {
        const envelope = parsed;
        return { data: envelope.data, envelope };
    }
    const timestamp = isObject(parsed) && typeof parsed['timestamp'] === 'number' ? parsed['timestamp'] : Date.now();
    return {
        data: parsed,
        envelope: {
            id: type === 'heartbeat' ? '' : (lastEventId ?? ''),
            channel: 'system',
            event: type,
            data: parsed,
            timestamp,
        },
    };
}
function appendQuery(url, params) {
    if (params.length === 0) {
        return url;
    }
    const hashAt = url.indexOf('#');
    const base = hashAt === -1 ? url : url.slice(0, hashAt);
    const hash = hashAt === -1 ? '' : url.slice(hashAt);
    let separator = '?';
    if (base.includes('?')) {
        separator = base.endsWith('?') || base.endsWith('&') ? '' : '&';
    }
    return `${base}${separator}${params.join('&')}${hash}`;
}
function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function sameState(a, b) {
    return (a.status === b.status &&
        a.connectionId === b.connectionId &&
        a.lastEventId === b.lastEventId &&
        a.reconnectAttempt === b.reconnectAttempt &&
        a.error === b.error);
}
function freeze(state) {
    return Object.freeze(state);
}
/** Reports an exception thrown by a listener without stopping the others. */
function report(err) {
    const reportError = globalThis.reportError;
    if (typeof reportError === 'function') {
        reportError(err);
    }
    else {
        console.error(err);
    }
}
