import type { Dispatch, SetStateAction } from 'react';
import type { ConnectionState, ListenerMethod, ListenerType, SSEClientOptions, SSEEventHandler } from './client.js';
import type { ChannelName, Envelope } from './types.js';
/** The stream endpoint the hooks use when given no URL. */
export declare const DEFAULT_SSE_URL = "/api/sse/stream";
/**
 * Options of {@link useSSE}: those of {@link SSEClient}, and `enabled`.
 *
 * URL, `channels`, `token`, `transport`, `headers` and `withCredentials` pick the shared
 * connection; the other options are taken from the first component that opens it.
 */
export interface UseSSEOptions extends SSEClientOptions {
    /**
     * `false` switches the connection off (as a `null` URL does): the hook holds none, and its
     * state is `closed`. Default `true`.
     */
    enabled?: boolean;
}
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
export declare function useSSE(url?: string | null, options?: UseSSEOptions): UseSSEResult;
/** Options of {@link useSSEEvent}: the stream's URL, and those of {@link useSSE}. */
export interface UseSSEEventOptions extends UseSSEOptions {
    /** The stream (default `/api/sse/stream`); `null` holds no connection. */
    url?: string | null;
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
export declare function useSSEEvent<T = any>(type: ListenerType, handler: SSEEventHandler<T>, options?: UseSSEEventOptions): void;
/** The channel whose `alert` and `update` events {@link useSSEAlerts} collects. */
export declare const ALERTS_CHANNEL: ChannelName;
/** The channel whose `broadcast` events {@link useSSEAlerts} shows as alerts too. */
export declare const SYSTEM_CHANNEL: ChannelName;
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
export interface UseSSEAlertsOptions<T extends object = Record<string, unknown>> extends UseSSEOptions {
    /** Alerts to start from (e.g. fetched with the page) when the list is created. */
    initialAlerts?: ReadonlyArray<SSEAlert<T>>;
    /**
     * Fetches the current alerts (from the app's own API) when the list is stale: after the
     * server invalidated it (a `cache-invalidation` refresh for `alerts`) or the client missed
     * messages (a `history-gap`). The list stays as it is until the promise resolves, then
     * takes its result; without a loader the list is emptied. One load runs per invalidation,
     * for every component sharing the list; a later invalidation's result wins.
     */
    load?: (reason: AlertInvalidation) => Promise<ReadonlyArray<SSEAlert<T>>>;
    /** Called after every invalidation (after the list was emptied, or the load started). */
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
export declare function useSSEAlerts<T extends object = Record<string, unknown>>(url?: string | null, options?: UseSSEAlertsOptions<T>): UseSSEAlertsResult<T>;
//# sourceMappingURL=react.d.ts.map