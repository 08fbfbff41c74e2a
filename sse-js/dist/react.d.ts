import type { Dispatch, SetStateAction } from 'react';
import type { ConnectionState, ListenerMethod, SSEClientOptions } from './client.js';
import type { ChannelName, Envelope } from './types.js';
/** The stream endpoint the hooks use when given no URL. */
export declare const DEFAULT_SSE_URL = "/api/sse/stream";
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
export declare function useSSE(url?: string, options?: UseSSEOptions): UseSSEResult;
/** The channel whose `alert` events {@link useSSEAlerts} collects. */
export declare const ALERTS_CHANNEL: ChannelName;
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
export declare function useSSEAlerts<T extends object = Record<string, unknown>>(url?: string, options?: UseSSEAlertsOptions<T>): UseSSEAlertsResult<T>;
//# sourceMappingURL=react.d.ts.map