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
export class FakeEventSource {
    static CONNECTING = 0;
    static OPEN = 1;
    static CLOSED = 2;
    /** Every instance created since the last `reset`, oldest first. */
    static instances = [];
    static reset() {
        FakeEventSource.instances = [];
    }
    /** The newest instance. */
    static get latest() {
        const source = FakeEventSource.instances.at(-1);
        if (source === undefined) {
            throw new Error('no EventSource was created');
        }
        return source;
    }
    /** The URLs of every instance, in creation order. */
    static get urls() {
        return FakeEventSource.instances.map((source) => source.url);
    }
    url;
    withCredentials;
    readyState = FakeEventSource.CONNECTING;
    listeners = new Map();
    lastEventIdBuffer = '';
    constructor(url, init) {
        this.url = url;
        this.withCredentials = init?.withCredentials === true;
        FakeEventSource.instances.push(this);
    }
    get closed() {
        return this.readyState === FakeEventSource.CLOSED;
    }
    addEventListener(type, listener) {
        let set = this.listeners.get(type);
        if (set === undefined) {
            set = new Set();
            this.listeners.set(type, set);
        }
        set.add(listener);
    }
    removeEventListener(type, listener) {
        this.listeners.get(type)?.delete(listener);
    }
    /** The event types that have a listener, sorted. */
    listenedTypes() {
        return [...this.listeners.entries()]
            .filter(([, set]) => set.size > 0)
            .map(([type]) => type)
            .sort();
    }
    close() {
        this.readyState = FakeEventSource.CLOSED;
    }
    /** The response arrived: HTTP 200 with `text/event-stream`. */
    open() {
        this.assertLive('open');
        this.readyState = FakeEventSource.OPEN;
        this.dispatch('open', new Event('open'));
    }
    /** The server sent an event; `data` is encoded as JSON unless it is a string. */
    emit(type, data, options = {}) {
        this.assertLive(`emit ${type}`);
        if (options.id !== undefined) {
            this.lastEventIdBuffer = options.id;
        }
        const event = new MessageEvent(type, {
            data: typeof data === 'string' ? data : JSON.stringify(data),
            lastEventId: this.lastEventIdBuffer,
        });
        this.dispatch(type, event);
    }
    /**
     * The connection failed or ended. `status` mimics the `code` that Node's `eventsource`
     * package adds to refusals; browsers report none.
     */
    fail(status) {
        this.assertLive('fail');
        const event = new Event('error');
        if (status !== undefined) {
            Object.assign(event, { code: status });
        }
        this.readyState = status === undefined ? FakeEventSource.CONNECTING : FakeEventSource.CLOSED;
        this.dispatch('error', event);
    }
    dispatch(type, event) {
        for (const listener of [...(this.listeners.get(type) ?? [])]) {
            listener(event);
        }
    }
    assertLive(what) {
        if (this.closed) {
            throw new Error(`test error: ${what} on a closed EventSource`);
        }
    }
}
/** The `connected` event's data as the server writes it. */
export function connectedEnvelope(overrides = {}) {
    return {
        id: 'conn-1',
        channel: 'system',
        event: 'connected',
        data: {
            connectionId: 'conn-1',
            channels: ['notifications', 'toasts'],
            userId: '42',
            resumed: false,
            replayed: 0,
            historyGap: false,
            heartbeatInterval: 15000,
            ...overrides,
        },
        timestamp: 1764350000000,
    };
}
/** A message envelope as the server writes it in the `data:` line. */
export function envelope(channel, event, data, id = 'msg-1', timestamp = 1764350000123) {
    return { id, channel, event, data, timestamp };
}
//# sourceMappingURL=testing.js.map