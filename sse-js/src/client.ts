import { backoffDelay } from './backoff.js';
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
export type EventSourceConstructor = new (
  url: string,
  init?: { withCredentials?: boolean },
) => EventSourceLike;

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
  reconnectAttempts: 5,
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

  private source: EventSourceLike | null = null;
  /** Event types with a listener on the current EventSource. */
  private readonly sourceTypes = new Set<string>();
  /** Whether the current EventSource fired `open`. */
  private opened = false;
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
  reconnect(): void {
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
    if (this.source !== null && type !== '*') {
      this.listen(this.source, wireType(type));
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
    const Impl =
      this.options.EventSource ??
      (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    if (Impl === undefined) {
      this.setState({
        status: 'error',
        error: { reason: 'unsupported', message: 'no EventSource implementation is available' },
      });
      return;
    }
    let source: EventSourceLike;
    try {
      source = new Impl(this.streamUrl(), { withCredentials: this.options.withCredentials === true });
    } catch (err) {
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

  private listen(source: EventSourceLike, type: string): void {
    if (this.sourceTypes.has(type)) {
      return;
    }
    this.sourceTypes.add(type);
    source.addEventListener(type, (event) => {
      this.onEvent(source, type, event);
    });
  }

  private streamUrl(): string {
    const params: string[] = [];
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

  private onOpen(source: EventSourceLike): void {
    if (source !== this.source) {
      return;
    }
    this.opened = true;
    this.attempt = 0;
    this.setState({ status: 'connected', reconnectAttempt: 0, error: undefined });
  }

  private onEvent(source: EventSourceLike, type: string, event: Event): void {
    if (source !== this.source) {
      return;
    }
    const message = event as Partial<MessageEvent>;
    if (typeof message.data !== 'string') {
      // Only a connection error is an `error` event without data; a server's `event: error`
      // arrives as a MessageEvent.
      if (type === 'error') {
        this.onConnectionError(event);
      }
      return;
    }
    const { data, envelope } = decode(type, message.data, message.lastEventId);
    const patch: Partial<ConnectionState> = {};
    if (typeof message.lastEventId === 'string' && message.lastEventId !== '') {
      patch.lastEventId = message.lastEventId;
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

  private onConnectionError(event: Event): void {
    const status = (event as { code?: unknown }).code;
    const wasOpen = this.opened;
    this.teardown();
    const error: ConnectionError = wasOpen
      ? { reason: 'connection-lost', message: 'the stream ended or broke' }
      : { reason: 'connection-failed', message: 'the stream could not be opened' };
    if (typeof status === 'number') {
      error.status = status;
      error.message += ` (HTTP ${status})`;
    }
    this.scheduleReconnect(error);
  }

  private armWatchdog(): void {
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

  private scheduleReconnect(error: ConnectionError): void {
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

  private teardown(): void {
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
    this.state = freeze(next);
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
  return (
    a.status === b.status &&
    a.connectionId === b.connectionId &&
    a.lastEventId === b.lastEventId &&
    a.reconnectAttempt === b.reconnectAttempt &&
    a.error === b.error
  );
}

function freeze(state: ConnectionState): ConnectionState {
  return Object.freeze(state);
}

/** Reports an exception thrown by a listener without stopping the others. */
function report(err: unknown): void {
  const reportError = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof reportError === 'function') {
    reportError(err);
  } else {
    console.error(err);
  }
}
