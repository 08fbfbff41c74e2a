import { backoffDelay } from './backoff.js';
import { join, shareSupport, } from './share.js';
import { TransportUnsupported, eventSourceTransport, fetchTransport, } from './transport.js';
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
    reconnectAttempts: Number.POSITIVE_INFINITY,
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
    /** The current connection attempt or stream; also set while a token is being fetched. */
    transport = null;
    /** Counts connection attempts, so that a late token or transport callback is ignored. */
    generation = 0;
    /** Whether a connection attempt is under way (its token may still be on its way). */
    opening = false;
    /** The server's `retry:` hint (fetch transport), for the reconnect after an open stream. */
    retryHint;
    /** This tab's membership of a shared connection (`share`). */
    shared = null;
    /** Event types other tabs of a shared connection need delivered. */
    sharedTypes = new Set();
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
        if (this.opening || this.reconnectTimer !== undefined || this.shared !== null) {
            return;
        }
        this.attempt = 0;
        this.setState({ status: 'connecting', reconnectAttempt: 0, error: undefined });
        const share = this.options.share;
        const support = share === undefined || share === false
            ? undefined
            : shareSupport(this.options.locks, this.options.BroadcastChannel);
        if (support === undefined) {
            this.open();
            return;
        }
        const name = typeof share === 'string' ? share : JSON.stringify([this.url, this.options.channels ?? []]);
        this.shared = join(name, support, {
            lead: () => {
                // This tab takes over the stream, resuming from the last event id it saw.
                this.setState({ status: 'connecting', connectionId: undefined, error: undefined });
                this.open();
            },
            message: (message) => {
                this.onShareMessage(message);
            },
        });
        this.shared.post({ kind: 'hello', types: this.wireTypes() });
    }
    /**
     * With `share`: `'leader'` when this tab holds the shared stream, `'follower'` when another
     * tab does; `null` without sharing.
     */
    get sharing() {
        if (this.shared === null) {
            return null;
        }
        return this.shared.leader ? 'leader' : 'follower';
    }
    get follower() {
        return this.shared !== null && !this.shared.leader;
    }
    onShareMessage(message) {
        if (this.shared?.leader === true) {
            if (message.kind === 'hello') {
                for (const type of message.types) {
                    this.sharedTypes.add(type);
                    this.transport?.listen(type);
                }
                this.shared.post({ kind: 'state', state: this.state });
            }
            else if (message.kind === 'reconnect') {
                this.reconnect();
            }
            return;
        }
        if (message.kind === 'event') {
            this.onEvent(message.type, message.data, message.lastEventId);
        }
        else if (message.kind === 'state') {
            const state = message.state;
            this.setState({
                status: state.status,
                reconnectAttempt: state.reconnectAttempt,
                connectionId: state.connectionId,
                error: state.error,
            });
        }
    }
    /** The event types this tab's listeners need. */
    wireTypes() {
        return [...this.listeners.keys()].filter((type) => type !== '*').map(wireType);
    }
    /**
     * Drops the current connection, if any, and connects again at once with a fresh budget of
     * reconnect attempts, resuming from the last cursor.
     */
    reconnect() {
        if (this.follower) {
            this.shared?.post({ kind: 'reconnect' });
            return;
        }
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
        this.shared?.close();
        this.shared = null;
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
        if (this.transport !== null && type !== '*') {
            this.transport.listen(wireType(type));
        }
        if (this.follower && type !== '*') {
            this.shared?.post({ kind: 'hello', types: [wireType(type)] });
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
        const generation = ++this.generation;
        this.opening = true;
        let token;
        try {
            const option = this.options.token;
            token = typeof option === 'function' ? option() : option;
        }
        catch (err) {
            this.tokenFailed(err);
            return;
        }
        if (token instanceof Promise) {
            token.then((value) => {
                if (generation === this.generation && this.opening) {
                    this.start(generation, value);
                }
            }, (err) => {
                if (generation === this.generation && this.opening) {
                    this.tokenFailed(err);
                }
            });
        }
        else {
            this.start(generation, token);
        }
    }
    tokenFailed(err) {
        this.opening = false;
        this.scheduleReconnect({
            reason: 'token-failed',
            message: `the token could not be had: ${err instanceof Error ? err.message : String(err)}`,
        });
    }
    start(generation, token) {
        const transport = this.options.transport ?? 'eventsource';
        const factory = transport === 'eventsource'
            ? eventSourceTransport(this.options.EventSource, {
                probe: this.options.probe,
                fetch: this.options.fetch,
            })
            : transport === 'fetch'
                ? fetchTransport({ fetch: this.options.fetch })
                : transport;
        const headers = { ...(this.options.headers ?? {}) };
        const params = [];
        if (token !== undefined && token !== '') {
            if (transport === 'eventsource') {
                params.push(`token=${encodeURIComponent(token)}`);
            }
            else {
                headers['authorization'] = `Bearer ${token}`;
            }
        }
        const types = new Set([
            ...BUILTIN_EVENT_TYPES,
            ...(this.options.eventTypes ?? []),
            ...this.sharedTypes,
        ]);
        for (const type of this.listeners.keys()) {
            if (type !== '*') {
                types.add(wireType(type));
            }
        }
        const current = () => generation === this.generation && this.transport !== null;
        this.retryHint = undefined;
        try {
            this.transport = factory({
                url: this.streamUrl(params),
                headers,
                lastEventId: this.state.lastEventId,
                withCredentials: this.options.withCredentials === true,
                types,
            }, {
                open: () => {
                    if (current()) {
                        this.onOpen();
                    }
                },
                event: (type, data, lastEventId) => {
                    if (current()) {
                        this.onEvent(type, data, lastEventId);
                    }
                },
                retry: (ms) => {
                    if (current()) {
                        this.retryHint = ms;
                    }
                },
                reconnecting: () => {
                    if (current()) {
                        this.onNativeReconnect();
                    }
                },
                end: (end) => {
                    if (current()) {
                        this.onEnd(end);
                    }
                },
            });
        }
        catch (err) {
            this.opening = false;
            this.transport = null;
            this.setState({
                status: 'error',
                error: {
                    reason: 'unsupported',
                    message: err instanceof TransportUnsupported ? err.message : String(err),
                },
            });
        }
    }
    streamUrl(extra) {
        const params = [];
        const { channels } = this.options;
        if (channels !== undefined && channels.length > 0) {
            params.push(`channels=${channels.map((c) => encodeURIComponent(c)).join(',')}`);
        }
        const cursor = this.state.lastEventId;
        if (cursor !== undefined && cursor !== '') {
            params.push(`lastEventId=${encodeURIComponent(cursor)}`);
        }
        return appendQuery(this.url, [...params, ...extra]);
    }
    onOpen() {
        this.attempt = 0;
        this.setState({ status: 'connected', reconnectAttempt: 0, error: undefined });
    }
    /** The EventSource reconnects by itself after the server's `retry:`. */
    onNativeReconnect() {
        this.clearWatchdog();
        this.watchdogMs = 0;
        this.setState({
            status: 'reconnecting',
            reconnectAttempt: 1,
            connectionId: undefined,
            error: { reason: 'connection-lost', message: 'the stream ended or broke' },
        });
    }
    onEvent(type, raw, lastEventId) {
        const follower = this.follower;
        if (this.shared?.leader === true) {
            this.shared.post({ kind: 'event', type, data: raw, lastEventId });
        }
        const { data, envelope } = decode(type, raw, lastEventId);
        const patch = {};
        if (lastEventId !== '') {
            patch.lastEventId = lastEventId;
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
        if (!follower) {
            this.armWatchdog();
        }
        if (type !== 'heartbeat') {
            this.last = envelope;
        }
        this.setState(patch);
        const generation = this.generation;
        this.emit(type, data, envelope);
        const reason = type === 'refresh' && isObject(data) ? data['reason'] : undefined;
        if (reason === 'history-gap') {
            this.emit('history-gap', data, envelope);
        }
        this.emit('*', data, envelope);
        if (reason === 'auth-expired' &&
            !follower &&
            generation === this.generation &&
            this.transport !== null) {
            // The server ends the stream next: reconnect at once with fresh credentials.
            this.teardown();
            this.attempt = 0;
            this.scheduleReconnect({
                reason: 'auth-expired',
                message: 'the credentials expired or were revoked; reconnecting with a fresh token',
            }, 0);
        }
    }
    /** The transport's connection is over: stop, or reconnect after the right delay. */
    onEnd(end) {
        this.teardown();
        const body = isObject(end.body) ? end.body : {};
        const code = typeof body['error'] === 'string' ? body['error'] : undefined;
        const error = end.opened
            ? { reason: 'connection-lost', message: end.message }
            : { reason: 'connection-failed', message: end.message };
        if (end.status !== undefined) {
            error.status = end.status;
        }
        if (code !== undefined) {
            error.code = code;
        }
        if (end.retryAfterMs !== undefined) {
            error.retryAfter = end.retryAfterMs;
        }
        if (end.status === 204) {
            this.attempt = 0;
            this.setState({
                status: 'closed',
                reconnectAttempt: 0,
                connectionId: undefined,
                error: { ...error, reason: 'server-closed', message: 'the server asked not to reconnect (HTTP 204)' },
            });
            return;
        }
        if (end.status === 403 && code === 'banned') {
            const banned = { ...error, reason: 'banned' };
            if (typeof body['until'] === 'number') {
                banned.until = body['until'];
            }
            if (typeof body['message'] === 'string') {
                banned.message = body['message'];
            }
            this.attempt = 0;
            this.setState({ status: 'error', reconnectAttempt: 0, connectionId: undefined, error: banned });
            return;
        }
        let delay;
        if (end.opened) {
            // A stream that was open starts a fresh series; the server's `retry:` sets its delay
            // (after a shutdown it carries the server's jitter).
            this.attempt = 0;
            delay = this.retryHint;
        }
        if (end.retryAfterMs !== undefined) {
            delay = Math.max(end.retryAfterMs, backoffDelay(this.attempt + 1, this.options));
        }
        this.scheduleReconnect(error, delay);
    }
    armWatchdog() {
        this.clearWatchdog();
        if (this.watchdogMs > 0) {
            const generation = this.generation;
            const ms = this.watchdogMs;
            this.watchdogTimer = setTimeout(() => {
                this.watchdogTimer = undefined;
                if (generation !== this.generation || this.transport === null) {
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
    scheduleReconnect(error, delayMs) {
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
        const delay = delayMs ?? backoffDelay(this.attempt, this.options);
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
        this.opening = false;
        this.generation += 1;
        if (this.transport !== null) {
            const transport = this.transport;
            this.transport = null;
            transport.close();
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
        const previous = this.state;
        this.state = freeze(next);
        // Followers keep their own cursor from the events: only the rest of the state is news.
        if (this.shared?.leader === true && !sameConnection(previous, next)) {
            this.shared.post({ kind: 'state', state: this.state });
        }
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
    return a.lastEventId === b.lastEventId && sameConnection(a, b);
}
/** The same state but perhaps for the cursor. */
function sameConnection(a, b) {
    return (a.status === b.status &&
        a.connectionId === b.connectionId &&
        a.reconnectAttempt === b.reconnectAttempt &&
        a.error === b.error);
}
function freeze(state) {
    return Object.freeze(state);
}
/**
 * Reports an exception thrown by a listener without stopping the others (the React entry uses
 * it too; not part of the public API).
 *
 * @internal
 */
export function report(err) {
    const reportError = globalThis.reportError;
    if (typeof reportError === 'function') {
        reportError(err);
    }
    else {
        console.error(err);
    }
}
//# sourceMappingURL=client.js.map