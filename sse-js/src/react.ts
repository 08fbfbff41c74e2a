/**
 * React hooks over {@link SSEClient}: `useSSE` and `useSSEAlerts`.
 *
 * Every component of a page that calls a hook with the same URL, channels, token and
 * `withCredentials` shares one connection; the last one to unmount closes it.
 *
 * @module
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Dispatch, SetStateAction } from 'react';

import { SSEClient } from './client.js';
import type {
  ConnectionState,
  ListenerMethod,
  SSEClientOptions,
  SSEEventHandler,
} from './client.js';
import type { ChannelName, Envelope } from './types.js';

/** The stream endpoint the hooks use when given no URL. */
export const DEFAULT_SSE_URL = '/api/sse/stream';

/**
 * Options of {@link useSSE}: those of {@link SSEClient}.
 *
 * URL, `channels`, `token` and `withCredentials` pick the shared connection; the other options
 * are taken from the first component that opens it.
 */
export type UseSSEOptions = SSEClientOptions;

/** What {@link useSSE} returns. The functions keep their identity across renders. */
export interface UseSSEResult {
  connectionState: ConnectionState;
  isConnected: boolean;
  /** Registers a handler; it is removed when the component unmounts, if not before. */
  addEventListener: ListenerMethod;
  removeEventListener: ListenerMethod;
  /** Reconnects at once with a fresh budget of attempts (also connects when `autoConnect` was false). */
  reconnect: () => void;
  /** The envelope of the last event other than a heartbeat, or `null`. */
  lastEvent: Envelope | null;
}

type AnyHandler = SSEEventHandler;

interface Entry {
  client: SSEClient;
  refs: number;
  alerts?: AlertStore;
}

const registry = new Map<string, Entry>();

const functionIds = new WeakMap<object, number>();
let functionCount = 0;

/** A value for the registry key: functions by identity (a token function, a transport). */
function keyOf(value: unknown): unknown {
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
function connectionKey(url: string, options: UseSSEOptions): string {
  return JSON.stringify([
    url,
    options.channels ?? null,
    keyOf(options.token),
    keyOf(options.transport),
    options.headers ?? null,
    options.withCredentials === true,
  ]);
}

function acquire(key: string, url: string, options: UseSSEOptions): Entry {
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

function release(key: string, entry: Entry): void {
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

function initialState(options: UseSSEOptions): ConnectionState {
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
export function useSSE(url: string = DEFAULT_SSE_URL, options: UseSSEOptions = {}): UseSSEResult {
  const key = connectionKey(url, options);
  const [connectionState, setConnectionState] = useState<ConnectionState>(
    () => registry.get(key)?.client.connectionState ?? initialState(options),
  );
  const [lastEvent, setLastEvent] = useState<Envelope | null>(
    () => registry.get(key)?.client.lastEvent ?? null,
  );
  const clientRef = useRef<SSEClient | null>(null);
  // type -> the component's handler -> the wrapper registered on the shared client. Wrappers
  // keep two components that register the same function from removing each other's.
  const handlersRef = useRef(new Map<string, Map<AnyHandler, AnyHandler>>());

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
    const onAny: AnyHandler = (_data, envelope) => {
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

  const addEventListener = useCallback(((type: string, handler: AnyHandler) => {
    let handlers = handlersRef.current.get(type);
    if (handlers === undefined) {
      handlers = new Map();
      handlersRef.current.set(type, handlers);
    }
    if (handlers.has(handler)) {
      return;
    }
    const wrapper: AnyHandler = (data, envelope) => {
      handler(data, envelope);
    };
    handlers.set(handler, wrapper);
    clientRef.current?.addEventListener(type, wrapper);
  }) as ListenerMethod, []);

  const removeEventListener = useCallback(((type: string, handler: AnyHandler) => {
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
  }) as ListenerMethod, []);

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
export const ALERTS_CHANNEL: ChannelName = 'alerts';

/**
 * An alert: the payload of an `alert` event, with `id` set to the payload's own `id` or, when it
 * has none, the message id.
 */
export type SSEAlert<T extends object = Record<string, unknown>> = T & {
  id: string | number;
  dismissed?: boolean;
};

/** Why the alert list was cleared. */
export type AlertInvalidation = 'cache-invalidation' | 'history-gap';

/** Options of {@link useSSEAlerts}. */
export interface UseSSEAlertsOptions<T extends object = Record<string, unknown>>
  extends UseSSEOptions {
  /** Alerts to start from (e.g. fetched with the page) when the list is created. */
  initialAlerts?: ReadonlyArray<SSEAlert<T>>;
  /**
   * Called after the list was cleared because the server invalidated it (a
   * `cache-invalidation` refresh for `alerts`) or the client missed messages (a `history-gap`):
   * the place to refetch the alerts and hand them to `setAlerts`.
   */
  onInvalidate?: (reason: AlertInvalidation) => void;
}

/** What {@link useSSEAlerts} returns. */
export interface UseSSEAlertsResult<T extends object = Record<string, unknown>> {
  /** The live alerts, oldest first. */
  alerts: ReadonlyArray<SSEAlert<T>>;
  /** Replaces the list for every component sharing the connection (e.g. after a refetch). */
  setAlerts: Dispatch<SetStateAction<ReadonlyArray<SSEAlert<T>>>>;
  connectionState: ConnectionState;
  isConnected: boolean;
}

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
export function useSSEAlerts<T extends object = Record<string, unknown>>(
  url: string = DEFAULT_SSE_URL,
  options: UseSSEAlertsOptions<T> = {},
): UseSSEAlertsResult<T> {
  const { initialAlerts, onInvalidate, ...rest } = options;
  const sseOptions: UseSSEOptions = { ...rest, channels: rest.channels ?? [ALERTS_CHANNEL] };
  const key = connectionKey(url, sseOptions);
  const { connectionState, isConnected } = useSSE(url, sseOptions);
  const [alerts, setLocal] = useState<ReadonlyArray<SSEAlert<T>>>(
    () =>
      (registry.get(key)?.alerts?.alerts as ReadonlyArray<SSEAlert<T>> | undefined) ??
      initialAlerts ??
      EMPTY,
  );
  const storeRef = useRef<AlertStore | null>(null);
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
    setLocal(store.alerts as ReadonlyArray<SSEAlert<T>>);
    const unsubscribe = store.subscribe(
      () => {
        setLocal(store.alerts as ReadonlyArray<SSEAlert<T>>);
      },
      (reason) => {
        onInvalidateRef.current?.(reason);
      },
    );
    return () => {
      unsubscribe();
      storeRef.current = null;
    };
  }, [key]);

  const setAlerts = useCallback((next: SetStateAction<ReadonlyArray<SSEAlert<T>>>) => {
    const store = storeRef.current;
    if (store === null) {
      setLocal(next);
      return;
    }
    const list =
      typeof next === 'function' ? next(store.alerts as ReadonlyArray<SSEAlert<T>>) : next;
    store.set(list);
  }, []);

  return { alerts, setAlerts, connectionState, isConnected };
}

const EMPTY: readonly never[] = Object.freeze([]);

/** The alert list of one connection, shared by the components that use it. */
class AlertStore {
  alerts: ReadonlyArray<SSEAlert>;
  private readonly listeners = new Set<() => void>();
  private readonly invalidationListeners = new Set<(reason: AlertInvalidation) => void>();

  constructor(client: SSEClient, initial: ReadonlyArray<SSEAlert<object>>) {
    this.alerts = initial as ReadonlyArray<SSEAlert>;
    // The store lives as long as the client: it is dropped with the registry entry.
    client.addEventListener('alert', (data: unknown, envelope) => {
      if (envelope.channel === ALERTS_CHANNEL) {
        this.apply(data, envelope);
      }
    });
    client.addEventListener('refresh', (data: unknown) => {
      if (!isObject(data)) {
        return;
      }
      if (data['type'] === 'cache-invalidation' && data['channel'] === ALERTS_CHANNEL) {
        this.invalidate('cache-invalidation');
      } else if (
        data['reason'] === 'history-gap' &&
        (!Array.isArray(data['channels']) || data['channels'].includes(ALERTS_CHANNEL))
      ) {
        this.invalidate('history-gap');
      }
    });
  }

  subscribe(onChange: () => void, onInvalidate: (reason: AlertInvalidation) => void): () => void {
    this.listeners.add(onChange);
    this.invalidationListeners.add(onInvalidate);
    return () => {
      this.listeners.delete(onChange);
      this.invalidationListeners.delete(onInvalidate);
    };
  }

  set(list: ReadonlyArray<SSEAlert<object>>): void {
    if (list === this.alerts) {
      return;
    }
    this.alerts = list as ReadonlyArray<SSEAlert>;
    for (const listener of [...this.listeners]) {
      listener();
    }
  }

  private apply(data: unknown, envelope: Envelope): void {
    const payload: Record<string, unknown> = isObject(data) ? data : { message: data };
    const ownId = payload['id'];
    const id = typeof ownId === 'string' || typeof ownId === 'number' ? ownId : envelope.id;
    const at = this.alerts.findIndex((alert) => String(alert.id) === String(id));
    if (payload['dismissed'] === true) {
      if (at !== -1) {
        this.set(this.alerts.filter((_, i) => i !== at));
      }
      return;
    }
    const alert = { ...payload, id } as SSEAlert;
    this.set(
      at === -1 ? [...this.alerts, alert] : this.alerts.map((old, i) => (i === at ? alert : old)),
    );
  }

  private invalidate(reason: AlertInvalidation): void {
    this.set(EMPTY);
    for (const listener of [...this.invalidationListeners]) {
      listener(reason);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
