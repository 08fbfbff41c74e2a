/**
 * React hooks over {@link SSEClient}: `useSSE`, `useSSEEvent` and `useSSEAlerts`.
 *
 * Every component of a page that calls a hook with the same URL, channels, credentials,
 * transport and `withCredentials` shares one connection; the last one to unmount closes it.
 *
 * @module
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { SSEClient, report } from './client.js';
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
        const { enabled: _enabled, ...clientOptions } = options;
        entry = { client: new SSEClient(url, { ...clientOptions, autoConnect: false }), refs: 0 };
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
const CLOSED = Object.freeze({ status: 'closed', reconnectAttempt: 0 });
/** The shared connection of `key`, held while the component is subscribed to it. */
function useConnection(key, url, options) {
    // Options are read when the key changes; the other options only matter to the first user.
    const optionsRef = useRef(options);
    optionsRef.current = options;
    const subscribe = useCallback((onChange) => {
        if (key === null || url === null) {
            return () => { };
        }
        const entry = acquire(key, url, optionsRef.current);
        const unsubscribe = entry.client.onStateChange(onChange);
        const onAny = (_data, envelope) => {
            if (envelope.event !== 'heartbeat') {
                onChange();
            }
        };
        entry.client.addEventListener('*', onAny);
        return () => {
            unsubscribe();
            entry.client.removeEventListener('*', onAny);
            release(key, entry);
        };
    }, [key, url]);
    const client = useCallback(() => (key === null ? null : (registry.get(key)?.client ?? null)), [key]);
    return { subscribe, client };
}
/**
 * Connects the component to an SSE stream, sharing the connection with every other component
 * that uses the same URL and options. A `null` URL, or `enabled: false`, holds no connection.
 *
 * The state is read with `useSyncExternalStore`: the component re-renders when the connection
 * state changes and when an event other than a heartbeat arrives (`lastEvent`). A component
 * that only handles events should use {@link useSSEEvent}, which never re-renders it.
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
    const enabled = url !== null && options.enabled !== false;
    const key = enabled ? connectionKey(url, options) : null;
    const { subscribe, client } = useConnection(key, enabled ? url : null, options);
    // The state before the connection is held (the first render), stable for the key.
    const initial = useMemo(() => (key === null ? CLOSED : Object.freeze(initialState(options))), 
    // Computed once per key, like the connection.
    [key]);
    const connectionState = useSyncExternalStore(subscribe, () => client()?.connectionState ?? initial, () => initial);
    const lastEvent = useSyncExternalStore(subscribe, () => client()?.lastEvent ?? null, () => null);
    const clientRef = useRef(null);
    // type -> the component's handler -> the wrapper registered on the shared client. Wrappers
    // keep two components that register the same function from removing each other's.
    const handlersRef = useRef(new Map());
    useEffect(() => {
        // The store's subscription (made before this effect) holds the connection.
        const current = client();
        if (current === null) {
            return undefined;
        }
        clientRef.current = current;
        for (const [type, handlers] of handlersRef.current) {
            for (const wrapper of handlers.values()) {
                current.addEventListener(type, wrapper);
            }
        }
        return () => {
            for (const [type, handlers] of handlersRef.current) {
                for (const wrapper of handlers.values()) {
                    current.removeEventListener(type, wrapper);
                }
            }
            clientRef.current = null;
        };
    }, [client]);
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
/**
 * Calls `handler` for every event of `type` on the shared connection, without ever
 * re-rendering the component: the connection's state and events do not go through React
 * state. The latest `handler` is called (it need not be memoised).
 *
 * @example
 * ```tsx
 * function Toaster() {
 *   const [toasts, setToasts] = useState<string[]>([]);
 *   useSSEEvent('toast', (data: { message: string }) => setToasts((t) => [...t, data.message]), {
 *     channels: ['toasts'],
 *   });
 *   return <ul>{toasts.map((t, i) => <li key={i}>{t}</li>)}</ul>;
 * }
 * ```
 */
export function useSSEEvent(type, handler, options = {}) {
    const { url = DEFAULT_SSE_URL, ...rest } = options;
    const enabled = url !== null && rest.enabled !== false;
    const key = enabled ? connectionKey(url, rest) : null;
    const handlerRef = useRef(handler);
    useEffect(() => {
        handlerRef.current = handler;
    });
    const optionsRef = useRef(rest);
    optionsRef.current = rest;
    useEffect(() => {
        if (key === null || url === null) {
            return undefined;
        }
        const entry = acquire(key, url, optionsRef.current);
        const wrapper = (data, envelope) => {
            handlerRef.current(data, envelope);
        };
        entry.client.addEventListener(type, wrapper);
        return () => {
            entry.client.removeEventListener(type, wrapper);
            release(key, entry);
        };
    }, [key, url, type]);
}
/** The channel whose `alert` and `update` events {@link useSSEAlerts} collects. */
export const ALERTS_CHANNEL = 'alerts';
/** The channel whose `broadcast` events {@link useSSEAlerts} shows as alerts too. */
export const SYSTEM_CHANNEL = 'system';
/**
 * Keeps a live list of the alerts published as `alert` or `update` events on the `alerts`
 * channel, and of the `broadcast` events on the `system` channel (the brief's banner and
 * maintenance messages).
 *
 * An alert is added, or replaced in place when one with the same id is listed (the payload's
 * `id`, else the message id); an alert whose payload has `dismissed: true` is removed. A
 * `refresh` event with `{"type":"cache-invalidation","channel":"alerts"}`, or a `history-gap`
 * covering `alerts`, makes the list stale: `load` refetches it (or, without one, the list is
 * emptied), and `onInvalidate` is told. Components that share a connection share one list.
 *
 * Subscribes to `['alerts', 'system']` unless `options.channels` says otherwise.
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
    const { initialAlerts, onInvalidate, load, ...rest } = options;
    const sseOptions = {
        ...rest,
        channels: rest.channels ?? [ALERTS_CHANNEL, SYSTEM_CHANNEL],
    };
    const key = url !== null && rest.enabled !== false ? connectionKey(url, sseOptions) : null;
    const { connectionState, isConnected } = useSSE(url, sseOptions);
    const [alerts, setLocal] = useState(() => (key === null ? undefined : registry.get(key)?.alerts?.alerts) ??
        initialAlerts ??
        EMPTY);
    const storeRef = useRef(null);
    const onInvalidateRef = useRef(onInvalidate);
    const loadRef = useRef(load);
    useEffect(() => {
        onInvalidateRef.current = onInvalidate;
        loadRef.current = load;
    });
    useEffect(() => {
        // useSSE's subscription, made before this effect, holds the entry.
        const entry = key === null ? undefined : registry.get(key);
        if (entry === undefined) {
            return undefined;
        }
        entry.alerts ??= new AlertStore(entry.client, initialAlerts ?? EMPTY);
        const store = entry.alerts;
        storeRef.current = store;
        setLocal(store.alerts);
        const unsubscribe = store.subscribe({
            change: () => {
                setLocal(store.alerts);
            },
            invalidated: (reason) => {
                onInvalidateRef.current?.(reason);
            },
            loader: () => loadRef.current,
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
    subscribers = new Set();
    /** Counts invalidations: only the latest one's load may set the list. */
    invalidations = 0;
    constructor(client, initial) {
        this.alerts = initial;
        // The store lives as long as the client: it is dropped with the registry entry.
        const collect = (channel) => (data, envelope) => {
            if (envelope.channel === channel) {
                this.apply(data, envelope);
            }
        };
        client.addEventListener('alert', collect(ALERTS_CHANNEL));
        client.addEventListener('update', collect(ALERTS_CHANNEL));
        client.addEventListener('broadcast', collect(SYSTEM_CHANNEL));
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
    subscribe(subscriber) {
        this.subscribers.add(subscriber);
        return () => {
            this.subscribers.delete(subscriber);
        };
    }
    set(list) {
        if (list === this.alerts) {
            return;
        }
        this.alerts = list;
        for (const subscriber of [...this.subscribers]) {
            subscriber.change();
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
        this.invalidations += 1;
        const invalidation = this.invalidations;
        const subscribers = [...this.subscribers];
        const load = subscribers.map((s) => s.loader()).find((l) => l !== undefined);
        if (load === undefined) {
            this.set(EMPTY);
        }
        else {
            load(reason).then((list) => {
                if (invalidation === this.invalidations) {
                    this.set(list);
                }
            }, (err) => {
                // The list stays as it was; the next invalidation tries again.
                report(err);
            });
        }
        for (const subscriber of subscribers) {
            try {
                subscriber.invalidated(reason);
            }
            catch (err) {
                report(err);
            }
        }
    }
}
function isObject(value) {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}
//# sourceMappingURL=react.js.map