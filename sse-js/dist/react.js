/**
 * React hooks over {@link SSEClient}: `useSSE` and `useSSEAlerts`.
 *
 * Every component of a page that calls a hook with the same URL, channels, token and
 * `withCredentials` shares one connection; the last one to unmount closes it.
 *
 * @module
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { SSEClient } from './client.js';
/** The stream endpoint the hooks use when given no URL. */
export const DEFAULT_SSE_URL = '/api/sse/stream';
const registry = new Map();
const functionIds = new WeakMap();
let functionCount = 0;
/** A value for the registry key: functions by identity (a token function, a transport). */
function keyOf(value) {
    if (typeof value !== 'function') {
        return value ?? null;
    }
    let id = functionIds.get(value);
    if (id === undefined) {
        functionCount += 1;
        id = functionCount;
        functionIds.set(value, id);
    }
    return `function#${id}`;
}
/** The registry key: what makes two hook calls share a connection. */
function connectionKey(url, options) {
    return JSON.stringify([
        url,
        options.channels ?? null,
        keyOf(options.token),
        keyOf(options.transport),
        options.headers ?? null,
        options.withCredentials === true,
    ]);
}
function acquire(key, url, options) {
    let entry = registry.get(key);
    if (entry === undefined) {
        entry = { client: new SSEClient(url, { ...options, autoConnect: false }), refs: 0 };
        registry.set(key, entry);
    }
    entry.refs += 1;
    if (options.autoConnect !== false && entry.client.connectionState.status === 'closed') {
        entry.client.connect();
    }
    return entry;
}
function release(key, entry) {
    entry.refs -= 1;
    if (entry.refs > 0) {
        return;
    }
    // Closing waits for a microtask so that a component unmounted and mounted again in the same
    // commit (React's StrictMode does this to every effect) keeps its connection.
    queueMicrotask(() => {
        if (entry.refs === 0 && registry.get(key) === entry) {
            registry.delete(key);
            entry.client.close();
        }
    });
}
function initialState(options) {
    return {
        status: options.autoConnect === false ? 'closed' : 'connecting',
        reconnectAttempt: 0,
        ...(options.lastEventId ? { lastEventId: options.lastEventId } : {}),
    };
}
/**
 * Connects the component to an SSE stream, sharing the connection with every other component
 * that uses the same URL and options.
 *
 * @example
 * ```tsx
 * const { connectionState, isConnected, addEventListener, removeEventListener } = useSSE(
 *   '/api/sse/stream',
 *   { channels: ['notifications', 'toasts'] },
 * );
 * useEffect(() => {
 *   const onToast = (data) => showToast(data.message, data.type);
 *   addEventListener('toast', onToast);
 *   return () => removeEventListener('toast', onToast);
 * }, [addEventListener, removeEventListener]);
 * ```
 */
export function useSSE(url = DEFAULT_SSE_URL, options = {}) {
    const key = connectionKey(url, options);
    const [connectionState, setConnectionState] = useState(() => registry.get(key)?.client.connectionState ?? initialState(options));
    const [lastEvent, setLastEvent] = useState(() => registry.get(key)?.client.lastEvent ?? null);
    const clientRef = useRef(null);
    // type -> the component's handler -> the wrapper registered on the shared client. Wrappers
    // keep two components that register the same function from removing each other's.
    const handlersRef = useRef(new Map());
    useEffect(() => {
        // Options are read when the key changes; the other options only matter to the first user.
        const entry = acquire(key, url, options);
        const client = entry.client;
        clientRef.current = client;
        for (const [type, handlers] of handlersRef.current) {
            for (const wrapper of handlers.values()) {
                client.addEventListener(type, wrapper);
            }
        }
        const onAny = (_data, envelope) => {
            if (envelope.event !== 'heartbeat') {
                setLastEvent(envelope);
            }
        };
        client.addEventListener('*', onAny);
        const unsubscribe = client.onStateChange(setConnectionState);
        setConnectionState(client.connectionState);
        setLastEvent(client.lastEvent);
        return () => {
            unsubscribe();
            client.removeEventListener('*', onAny);
            for (const [type, handlers] of handlersRef.current) {
                for (const wrapper of handlers.values()) {
                    client.removeEventListener(type, wrapper);
                }
            }
            clientRef.current = null;
            release(key, entry);
        };
        // The key holds every option that picks the connection.
    }, [key]);
    const addEventListener = useCallback(((type, handler) => {
        let handlers = handlersRef.current.get(type);
        if (handlers === undefined) {
            handlers = new Map();
            handlersRef.current.set(type, handlers);
        }
        if (handlers.has(handler)) {
            return;
        }
        const wrapper = (data, envelope) => {
            handler(data, envelope);
        };
        handlers.set(handler, wrapper);
        clientRef.current?.addEventListener(type, wrapper);
    }), []);
    const removeEventListener = useCallback(((type, handler) => {
        const handlers = handlersRef.current.get(type);
        const wrapper = handlers?.get(handler);
        if (handlers === undefined || wrapper === undefined) {
            return;
        }
        handlers.delete(handler);
        if (handlers.size === 0) {
            handlersRef.current.delete(type);
        }
        clientRef.current?.removeEventListener(type, wrapper);
    }), []);
    const reconnect = useCallback(() => {
        clientRef.current?.reconnect();
    }, []);
    return {
        connectionState,
        isConnected: connectionState.status === 'connected',
        addEventListener,
        removeEventListener,
        reconnect,
        lastEvent,
    };
}
/** The channel whose `alert` events {@link useSSEAlerts} collects. */
export const ALERTS_CHANNEL = 'alerts';
/**
 * Keeps a live list of the alerts published as `alert` events on the `alerts` channel.
 *
 * An alert is added, or replaced in place when one with the same id is listed; an alert whose
 * payload has `dismissed: true` is removed. A `refresh` event with
 * `{"type":"cache-invalidation","channel":"alerts"}`, or a `history-gap` covering `alerts`,
 * clears the list and calls `onInvalidate` so that the application refetches. Components that
 * share a connection share one list.
 *
 * Subscribes to `['alerts']` unless `options.channels` says otherwise (it must include
 * `alerts`).
 *
 * @example
 * ```tsx
 * function BannerSystem() {
 *   const { alerts } = useSSEAlerts();
 *   return <div>{alerts.map((alert) => <Banner key={alert.id} alert={alert} />)}</div>;
 * }
 * ```
 */
export function useSSEAlerts(url = DEFAULT_SSE_URL, options = {}) {
    const { initialAlerts, onInvalidate, ...rest } = options;
    const sseOptions = { ...rest, channels: rest.channels ?? [ALERTS_CHANNEL] };
    const key = connectionKey(url, sseOptions);
    const { connectionState, isConnected } = useSSE(url, sseOptions);
    const [alerts, setLocal] = useState(() => registry.get(key)?.alerts?.alerts ??
        initialAlerts ??
        EMPTY);
    const storeRef = useRef(null);
    const onInvalidateRef = useRef(onInvalidate);
    useEffect(() => {
        onInvalidateRef.current = onInvalidate;
    });
    useEffect(() => {
        // useSSE's effect, declared first in this component, has just registered the entry.
        const entry = registry.get(key);
        if (entry === undefined) {
            return undefined;
        }
        entry.alerts ??= new AlertStore(entry.client, initialAlerts ?? EMPTY);
        const store = entry.alerts;
        storeRef.current = store;
        setLocal(store.alerts);
        const unsubscribe = store.subscribe(() => {
            setLocal(store.alerts);
        }, (reason) => {
            onInvalidateRef.current?.(reason);
        });
        return () => {
            unsubscribe();
            storeRef.current = null;
        };
    }, [key]);
    const setAlerts = useCallback((next) => {
        const store = storeRef.current;
        if (store === null) {
            setLocal(next);
            return;
        }
        const list = typeof next === 'function' ? next(store.alerts) : next;
        store.set(list);
    }, []);
    return { alerts, setAlerts, connectionState, isConnected };
}
const EMPTY = Object.freeze([]);
/** The alert list of one connection, shared by the components that use it. */
class AlertStore {
    alerts;
    listeners = new Set();
    invalidationListeners = new Set();
    constructor(client, initial) {
        this.alerts = initial;
        // The store lives as long as the client: it is dropped with the registry entry.
        client.addEventListener('alert', (data, envelope) => {
            if (envelope.channel === ALERTS_CHANNEL) {
                this.apply(data, envelope);
            }
        });
        client.addEventListener('refresh', (data) => {
            if (!isObject(data)) {
                return;
            }
            if (data['type'] === 'cache-invalidation' && data['channel'] === ALERTS_CHANNEL) {
                this.invalidate('cache-invalidation');
            }
            else if (data['reason'] === 'history-gap' &&
                (!Array.isArray(data['channels']) || data['channels'].includes(ALERTS_CHANNEL))) {
                this.invalidate('history-gap');
            }
        });
    }
    subscribe(onChange, onInvalidate) {
        this.listeners.add(onChange);
        this.invalidationListeners.add(onInvalidate);
        return () => {
            this.listeners.delete(onChange);
            this.invalidationListeners.delete(onInvalidate);
        };
    }
    set(list) {
        if (list === this.alerts) {
            return;
        }
        this.alerts = list;
        for (const listener of [...this.listeners]) {
            listener();
        }
    }
    apply(data, envelope) {
        const payload = isObject(data) ? data : { message: data };
        const ownId = payload['id'];
        const id = typeof ownId === 'string' || typeof ownId === 'number' ? ownId : envelope.id;
        const at = this.alerts.findIndex((alert) => String(alert.id) === String(id));
        if (payload['dismissed'] === true) {
            if (at !== -1) {
                this.set(this.alerts.filter((_, i) => i !== at));
            }
            return;
        }
        const alert = { ...payload, id };
        this.set(at === -1 ? [...this.alerts, alert] : this.alerts.map((old, i) => (i === at ? alert : old)));
    }
    invalidate(reason) {
        this.set(EMPTY);
        for (const listener of [...this.invalidationListeners]) {
            listener(reason);
        }
    }
}
function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
//# sourceMappingURL=react.js.map