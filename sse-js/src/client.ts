import { backoffDelay } from './backoff.js';
import {
  type BroadcastChannelConstructor,
  type LockManagerLike,
  type Shared,
  type ShareMessage,
  join,
  shareSupport,
} from './share.js';
import {
  type EventSourceConstructor,
  type Transport,
  type TransportEnd,
  type TransportFactory,
  TransportUnsupported,
  eventSourceTransport,
  fetchTransport,
} from './transport.js';
import type {
  ChannelName,
  ConnectedData,
  Envelope,
  EventType,
  HeartbeatData,
  HistoryGapData,
} from './types.js';

/** Where a client stands. */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'error' | 'closed';

/** Why the last connection attempt failed or the last connection ended. */
export type ConnectionErrorReason =
  /** The stream never opened: refused (HTTP 4xx/5xx), unreachable, or not an event stream. */
  | 'connection-failed'
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

/** The event types the client always listens for on its EventSource. */
const BUILTIN_EVENT_TYPES: readonly string[] = [
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

type Timer = ReturnType<typeof setTimeout>;
type AnyHandler = SSEEventHandler<any>;

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
  readonly url: string;

  private readonly options: SSEClientOptions & typeof DEFAULTS;
  private readonly listeners = new Map<string, Set<AnyHandler>>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private state: ConnectionState;
  private last: Envelope | null = null;

  /** The current connection attempt or stream; also set while a token is being fetched. */
  private transport: Transport | null = null;
  /** Counts connection attempts, so that a late token or transport callback is ignored. */
  private generation = 0;
  /** Whether a connection attempt is under way (its token may still be on its way). */
  private opening = false;
  /** The server's `retry:` hint (fetch transport), for the reconnect after an open stream. */
  private retryHint: number | undefined;
  /** This tab's membership of a shared connection (`share`). */
  private shared: Shared | null = null;
  /** Event types other tabs of a shared connection need delivered. */
  private readonly sharedTypes = new Set<string>();
  /** Reconnects tried since the last successful open. */
  private attempt = 0;
  private reconnectTimer: Timer | undefined;
  private watchdogTimer: Timer | undefined;
  /** Watchdog timeout for the current connection, once its `connected` event arrived. */
  private watchdogMs = 0;

  constructor(url: string, options: SSEClientOptions = {}) {
    this.url = url;
    const defined = Object.fromEntries(
      Object.entries(options).filter(([, value]) => value !== undefined),
    ) as SSEClientOptions;
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
  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Whether the stream is open. */
  get isConnected(): boolean {
    return this.state.status === 'connected';
  }

  /** The envelope of the last event received other than a heartbeat, or `null`. */
  get lastEvent(): Envelope | null {
    return this.last;
  }

  /**
   * Opens the stream. Does nothing while a connection is open, being opened or waiting for a
   * reconnect; from `closed` or `error` it starts afresh, resuming from the last cursor.
   */
  connect(): void {
    if (this.opening || this.reconnectTimer !== undefined || this.shared !== null) {
      return;
    }
    this.attempt = 0;
    this.setState({ status: 'connecting', reconnectAttempt: 0, error: undefined });
    const share = this.options.share;
    const support =
      share === undefined || share === false
        ? undefined
        : shareSupport(this.options.locks, this.options.BroadcastChannel);
    if (support === undefined) {
      this.open();
      return;
    }
    const name =
      typeof share === 'string' ? share : JSON.stringify([this.url, this.options.channels ?? []]);
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
  get sharing(): 'leader' | 'follower' | null {
    if (this.shared === null) {
      return null;
    }
    return this.shared.leader ? 'leader' : 'follower';
  }

  private get follower(): boolean {
    return this.shared !== null && !this.shared.leader;
  }

  private onShareMessage(message: ShareMessage): void {
    if (this.shared?.leader === true) {
      if (message.kind === 'hello') {
        for (const type of message.types) {
          this.sharedTypes.add(type);
          this.transport?.listen(type);
        }
        this.shared.post({ kind: 'state', state: this.state });
      } else if (message.kind === 'reconnect') {
        this.reconnect();
      }
      return;
    }
    if (message.kind === 'event') {
      this.onEvent(message.type, message.data, message.lastEventId);
    } else if (message.kind === 'state') {
      const state = message.state as ConnectionState;
      this.setState({
        status: state.status,
        reconnectAttempt: state.reconnectAttempt,
        connectionId: state.connectionId,
        error: state.error,
      });
    }
  }

  /** The event types this tab's listeners need. */
  private wireTypes(): string[] {
    return [...this.listeners.keys()].filter((type) => type !== '*').map(wireType);
  }

  /**
   * Drops the current connection, if any, and connects again at once with a fresh budget of
   * reconnect attempts, resuming from the last cursor.
   */
  reconnect(): void {
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
  close(): void {
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
  readonly addEventListener: ListenerMethod = (type: string, handler: AnyHandler): void => {
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
  readonly removeEventListener: ListenerMethod = (type: string, handler: AnyHandler): void => {
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
  onStateChange(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => {
      this.stateListeners.delete(listener);
    };
  }

  private open(): void {
    const generation = ++this.generation;
    this.opening = true;
    let token: string | Promise<string> | undefined;
    try {
      const option = this.options.token;
      token = typeof option === 'function' ? option() : option;
    } catch (err) {
      this.tokenFailed(err);
      return;
    }
    if (token instanceof Promise) {
      token.then(
        (value) => {
          if (generation === this.generation && this.opening) {
            this.start(generation, value);
          }
        },
        (err: unknown) => {
          if (generation === this.generation && this.opening) {
            this.tokenFailed(err);
          }
        },
      );
    } else {
      this.start(generation, token);
    }
  }

  private tokenFailed(err: unknown): void {
    this.opening = false;
    this.scheduleReconnect({
      reason: 'token-failed',
      message: `the token could not be had: ${err instanceof Error ? err.message : String(err)}`,
    });
  }

  private start(generation: number, token: string | undefined): void {
    const transport = this.options.transport ?? 'eventsource';
    const factory =
      transport === 'eventsource'
        ? eventSourceTransport(this.options.EventSource, {
            probe: this.options.probe,
            fetch: this.options.fetch,
          })
        : transport === 'fetch'
          ? fetchTransport({ fetch: this.options.fetch })
          : transport;
    const headers: Record<string, string> = { ...(this.options.headers ?? {}) };
    const params: string[] = [];
    if (token !== undefined && token !== '') {
      if (transport === 'eventsource') {
        params.push(`token=${encodeURIComponent(token)}`);
      } else {
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
      this.transport = factory(
        {
          url: this.streamUrl(params),
          headers,
          lastEventId: this.state.lastEventId,
          withCredentials: this.options.withCredentials === true,
          types,
        },
        {
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
        },
      );
    } catch (err) {
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

  private streamUrl(extra: string[]): string {
    const params: string[] = [];
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

  private onOpen(): void {
    this.attempt = 0;
    this.setState({ status: 'connected', reconnectAttempt: 0, error: undefined });
  }

  /** The EventSource reconnects by itself after the server's `retry:`. */
  private onNativeReconnect(): void {
    this.clearWatchdog();
    this.watchdogMs = 0;
    this.setState({
      status: 'reconnecting',
      reconnectAttempt: 1,
      connectionId: undefined,
      error: { reason: 'connection-lost', message: 'the stream ended or broke' },
    });
  }

  private onEvent(type: string, raw: string, lastEventId: string): void {
    const follower = this.follower;
    if (this.shared?.leader === true) {
      this.shared.post({ kind: 'event', type, data: raw, lastEventId });
    }
    const { data, envelope } = decode(type, raw, lastEventId);
    const patch: Partial<ConnectionState> = {};
    if (lastEventId !== '') {
      patch.lastEventId = lastEventId;
    }
    if (type === 'connected' && isObject(data)) {
      const connected = data as Partial<ConnectedData>;
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
    if (
      reason === 'auth-expired' &&
      !follower &&
      generation === this.generation &&
      this.transport !== null
    ) {
      // The server ends the stream next: reconnect at once with fresh credentials.
      this.teardown();
      this.attempt = 0;
      this.scheduleReconnect(
        {
          reason: 'auth-expired',
          message: 'the credentials expired or were revoked; reconnecting with a fresh token',
        },
        0,
      );
    }
  }

  /** The transport's connection is over: stop, or reconnect after the right delay. */
  private onEnd(end: TransportEnd): void {
    this.teardown();
    const body = isObject(end.body) ? end.body : {};
    const code = typeof body['error'] === 'string' ? body['error'] : undefined;
    const error: ConnectionError = end.opened
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
      const banned: ConnectionError = { ...error, reason: 'banned' };
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
    let delay: number | undefined;
    if (end.opened) {
      // A stream that was open starts a fresh series; the server's `retry:` sets its delay
      // (after a shutdown it carries the server's jitter).
      this.attempt = 0;
      delay = this.retryHint;
    }
    if (end.retryAfterMs !== undefined) {
      delay = Math.max(
        end.retryAfterMs,
        backoffDelay(this.attempt + 1, this.options),
      );
    }
    this.scheduleReconnect(error, delay);
  }

  private armWatchdog(): void {
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

  private scheduleReconnect(error: ConnectionError, delayMs?: number): void {
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

  private teardown(): void {
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

  private clearWatchdog(): void {
    if (this.watchdogTimer !== undefined) {
      clearTimeout(this.watchdogTimer);
      this.watchdogTimer = undefined;
    }
  }

  private clearReconnectTimer(): void {
    if (this.reconnectTimer !== undefined) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
    }
  }

  private emit(type: string, data: unknown, envelope: Envelope): void {
    const set = this.listeners.get(type);
    if (set === undefined) {
      return;
    }
    for (const handler of [...set]) {
      try {
        handler(data, envelope);
      } catch (err) {
        report(err);
      }
    }
  }

  private setState(patch: Partial<ConnectionState>): void {
    const next: ConnectionState = { ...this.state };
    for (const [key, value] of Object.entries(patch) as Array<[keyof ConnectionState, unknown]>) {
      if (value === undefined) {
        delete next[key];
      } else {
        (next as unknown as Record<string, unknown>)[key] = value;
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
      } catch (err) {
        report(err);
      }
    }
  }
}

/** The EventSource event that carries events of listener type `type`. */
function wireType(type: string): string {
  return type === 'history-gap' ? 'refresh' : type;
}

/** Splits the JSON of a `data:` field into payload and envelope. */
function decode(
  type: string,
  raw: string,
  lastEventId: string | undefined,
): { data: unknown; envelope: Envelope } {
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Not JSON: handlers get the text as it came.
  }
  if (
    isObject(parsed) &&
    typeof parsed['channel'] === 'string' &&
    typeof parsed['event'] === 'string' &&
    'data' in parsed
  ) {
    const envelope = parsed as unknown as Envelope;
    return { data: envelope.data, envelope };
  }
  const timestamp =
    isObject(parsed) && typeof parsed['timestamp'] === 'number' ? parsed['timestamp'] : Date.now();
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

function appendQuery(url: string, params: string[]): string {
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameState(a: ConnectionState, b: ConnectionState): boolean {
  return a.lastEventId === b.lastEventId && sameConnection(a, b);
}

/** The same state but perhaps for the cursor. */
function sameConnection(a: ConnectionState, b: ConnectionState): boolean {
  return (
    a.status === b.status &&
    a.connectionId === b.connectionId &&
    a.reconnectAttempt === b.reconnectAttempt &&
    a.error === b.error
  );
}

function freeze(state: ConnectionState): ConnectionState {
  return Object.freeze(state);
}

/**
 * Reports an exception thrown by a listener without stopping the others (the React entry uses
 * it too; not part of the public API).
 *
 * @internal
 */
export function report(err: unknown): void {
  const reportError = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof reportError === 'function') {
    reportError(err);
  } else {
    console.error(err);
  }
}
