import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';

import { SSEClient, backoffDelay } from '../../src/index.js';
import type {
  ConnectedData,
  ConnectionState,
  Envelope,
  HeartbeatData,
  HistoryGapData,
  SSEClientOptions,
} from '../../src/index.js';
import { FakeEventSource, connectedEnvelope, envelope } from './fake-event-source.js';

const URL = '/api/sse/stream';

function client(options: SSEClientOptions = {}): SSEClient {
  return new SSEClient(URL, { EventSource: FakeEventSource, probe: false, ...options });
}

/** Records every state the client goes through. */
function recordStates(c: SSEClient): ConnectionState[] {
  const states: ConnectionState[] = [];
  c.onStateChange((state) => states.push(state));
  return states;
}

/** Opens the latest EventSource and sends the `connected` event. */
function openConnected(overrides: Record<string, unknown> = {}): FakeEventSource {
  const source = FakeEventSource.latest;
  source.open();
  source.emit('connected', connectedEnvelope(overrides));
  return source;
}

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
  // 0.5 with the default jitter of 0.5: every delay is 75 % of its nominal value.
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('connecting', () => {
  it('opens at once with channels and token in the query', () => {
    const c = client({ channels: ['notifications', 'toasts'], token: 'abc def' });
    expect(FakeEventSource.urls).toEqual([
      '/api/sse/stream?channels=notifications,toasts&token=abc%20def',
    ]);
    expect(FakeEventSource.latest.withCredentials).toBe(false);
    expect(c.connectionState).toEqual({ status: 'connecting', reconnectAttempt: 0 });
    expect(c.isConnected).toBe(false);
  });

  it('waits for connect() when autoConnect is false', () => {
    const c = client({ autoConnect: false, withCredentials: true });
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(c.connectionState).toEqual({ status: 'closed', reconnectAttempt: 0 });
    c.connect();
    expect(FakeEventSource.urls).toEqual(['/api/sse/stream']);
    expect(FakeEventSource.latest.withCredentials).toBe(true);
    expect(c.connectionState.status).toBe('connecting');
  });

  it('adds its parameters to a URL that has a query and a fragment', () => {
    new SSEClient('/stream?v=2#top', {
      EventSource: FakeEventSource,
      channels: ['chat'],
      lastEventId: '7-1-0',
    });
    expect(FakeEventSource.urls).toEqual(['/stream?v=2&channels=chat&lastEventId=7-1-0#top']);
  });

  it('does nothing on connect() while a connection is open', () => {
    const c = client();
    openConnected();
    c.connect();
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(c.connectionState.status).toBe('connected');
  });

  it('goes to error when there is no EventSource implementation', () => {
    vi.stubGlobal('EventSource', undefined);
    const c = new SSEClient(URL);
    expect(c.connectionState).toEqual({
      status: 'error',
      reconnectAttempt: 0,
      error: { reason: 'unsupported', message: 'no EventSource implementation is available' },
    });
  });

  it('uses globalThis.EventSource by default', () => {
    vi.stubGlobal('EventSource', FakeEventSource);
    new SSEClient(URL, { channels: ['alerts'] });
    expect(FakeEventSource.urls).toEqual(['/api/sse/stream?channels=alerts']);
  });
});

describe('state', () => {
  it('goes connecting -> connected -> reconnecting -> connected -> closed', () => {
    const c = client();
    const states = recordStates(c);
    FakeEventSource.latest.open();
    FakeEventSource.latest.emit('connected', connectedEnvelope());
    FakeEventSource.latest.fail();
    vi.advanceTimersByTime(750);
    FakeEventSource.latest.open();
    FakeEventSource.latest.emit('connected', connectedEnvelope({ connectionId: 'conn-2' }));
    c.close();
    expect(states).toEqual([
      { status: 'connected', reconnectAttempt: 0 },
      { status: 'connected', reconnectAttempt: 0, connectionId: 'conn-1' },
      {
        status: 'reconnecting',
        reconnectAttempt: 1,
        error: { reason: 'connection-lost', message: 'the stream ended or broke' },
      },
      { status: 'connected', reconnectAttempt: 0 },
      { status: 'connected', reconnectAttempt: 0, connectionId: 'conn-2' },
      { status: 'closed', reconnectAttempt: 0 },
    ]);
    expect(Object.isFrozen(c.connectionState)).toBe(true);
  });

  it('stops calling a state listener once it unsubscribed', () => {
    const c = client();
    const listener = vi.fn();
    const unsubscribe = c.onStateChange(listener);
    FakeEventSource.latest.open();
    unsubscribe();
    c.close();
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener).toHaveBeenCalledWith({ status: 'connected', reconnectAttempt: 0 });
  });

  it('tracks the last cursor, which heartbeats do not move', () => {
    const c = client();
    const source = openConnected();
    source.emit('toast', envelope('toasts', 'toast', { message: 'a' }), { id: '9-4-0' });
    source.emit('heartbeat', { timestamp: 1764350001000 });
    expect(c.connectionState).toEqual({
      status: 'connected',
      reconnectAttempt: 0,
      connectionId: 'conn-1',
      lastEventId: '9-4-0',
    });
  });
});

describe('listeners', () => {
  it('gives handlers the payload and the envelope, per type', () => {
    const c = client();
    const onToast = vi.fn();
    const onAlert = vi.fn();
    c.addEventListener('toast', onToast);
    c.addEventListener('alert', onAlert);
    const source = openConnected();
    const toast = envelope('toasts', 'toast', { message: 'Saved', type: 'success' }, 'm-1');
    source.emit('toast', toast, { id: '1-0-0' });
    expect(onToast).toHaveBeenCalledTimes(1);
    expect(onToast).toHaveBeenCalledWith({ message: 'Saved', type: 'success' }, toast);
    expect(onAlert).not.toHaveBeenCalled();
    expect(c.lastEvent).toEqual(toast);
  });

  it('registers a handler once and stops calling it after removal', () => {
    const c = client();
    const handler = vi.fn();
    c.addEventListener('update', handler);
    c.addEventListener('update', handler);
    const source = openConnected();
    source.emit('update', envelope('live-updates', 'update', 1, 'u-1'));
    c.removeEventListener('update', handler);
    source.emit('update', envelope('live-updates', 'update', 2, 'u-2'));
    expect(handler.mock.calls.map(([data]) => data)).toEqual([1]);
  });

  it('receives a custom event type registered after the stream opened', () => {
    const c = client();
    const source = openConnected();
    expect(source.listenedTypes()).not.toContain('user-online');
    const handler = vi.fn();
    c.addEventListener('user-online', handler);
    expect(source.listenedTypes()).toContain('user-online');
    source.emit('user-online', envelope('custom', 'user-online', { userId: '7' }));
    expect(handler).toHaveBeenCalledWith(
      { userId: '7' },
      envelope('custom', 'user-online', { userId: '7' }),
    );
  });

  it('listens for the built-in types, the extra ones and those with listeners', () => {
    const c = client({ eventTypes: ['typing'] });
    c.addEventListener('history-gap', () => {});
    c.addEventListener('file-uploaded', () => {});
    c.addEventListener('*', () => {});
    expect(FakeEventSource.latest.listenedTypes()).toEqual([
      'alert',
      'broadcast',
      'connected',
      'custom',
      'data',
      'error',
      'file-uploaded',
      'heartbeat',
      'message',
      'notification',
      'open',
      'refresh',
      'toast',
      'typing',
      'update',
    ]);
  });

  it("calls '*' listeners for every event, after the typed ones", () => {
    const c = client({ eventTypes: ['typing'] });
    const order: string[] = [];
    c.addEventListener('*', (_data, env) => order.push(`*:${env.event}`));
    c.addEventListener('toast', () => order.push('toast'));
    const source = openConnected();
    source.emit('toast', envelope('toasts', 'toast', {}));
    source.emit('heartbeat', { timestamp: 5 });
    source.emit('typing', envelope('chat', 'typing', {}));
    expect(order).toEqual(['*:connected', 'toast', '*:toast', '*:heartbeat', '*:typing']);
  });

  it('gives heartbeat handlers the raw payload and a made-up envelope', () => {
    const c = client();
    const handler = vi.fn();
    c.addEventListener('heartbeat', handler);
    const source = openConnected();
    source.emit('heartbeat', { timestamp: 1764350001000 });
    expect(handler).toHaveBeenCalledWith(
      { timestamp: 1764350001000 },
      {
        id: '',
        channel: 'system',
        event: 'heartbeat',
        data: { timestamp: 1764350001000 },
        timestamp: 1764350001000,
      },
    );
    expect(c.lastEvent?.event).toBe('connected');
  });

  it('types the payloads it knows and leaves the others to the caller', () => {
    const c = client({ autoConnect: false });
    c.addEventListener('connected', (data, env) => {
      expectTypeOf(data).toEqualTypeOf<ConnectedData>();
      expectTypeOf(env).toEqualTypeOf<Envelope<ConnectedData>>();
    });
    c.addEventListener('heartbeat', (data) => expectTypeOf(data).toEqualTypeOf<HeartbeatData>());
    c.addEventListener('history-gap', (data) => {
      expectTypeOf(data).toEqualTypeOf<HistoryGapData>();
    });
    c.addEventListener('toast', (data: { message: string }) => {
      expectTypeOf(data.message).toBeString();
    });
    expect(FakeEventSource.instances).toHaveLength(0);
  });

  it('gives connected handlers the connection data', () => {
    const c = client();
    const handler = vi.fn();
    c.addEventListener('connected', handler);
    openConnected({ resumed: true, replayed: 3 });
    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler.mock.calls[0]?.[0]).toEqual({
      connectionId: 'conn-1',
      channels: ['notifications', 'toasts'],
      userId: '42',
      resumed: true,
      replayed: 3,
      historyGap: false,
      heartbeatInterval: 15000,
    });
  });

  it('passes data that is not JSON through as text', () => {
    const c = client();
    const handler = vi.fn();
    c.addEventListener('data', handler);
    const source = openConnected();
    source.emit('data', 'plain text', { id: '3-0-0' });
    expect(handler).toHaveBeenCalledWith('plain text', {
      id: '3-0-0',
      channel: 'system',
      event: 'data',
      data: 'plain text',
      timestamp: Date.now(),
    });
  });

  it("delivers the server's own error events without reconnecting", () => {
    const c = client();
    const handler = vi.fn();
    c.addEventListener('error', handler);
    const source = openConnected();
    const error = envelope('system', 'error', { message: 'quota exceeded' }, 'e-1');
    source.emit('error', error, { id: '4-0-0' });
    expect(handler).toHaveBeenCalledWith({ message: 'quota exceeded' }, error);
    expect(c.connectionState.status).toBe('connected');
    expect(source.closed).toBe(false);
  });

  it('keeps calling the other handlers when one throws, and reports the exception', () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    const c = client();
    const boom = new Error('boom');
    const after = vi.fn();
    c.addEventListener('toast', () => {
      throw boom;
    });
    c.addEventListener('toast', after);
    openConnected().emit('toast', envelope('toasts', 'toast', 'x'));
    expect(after).toHaveBeenCalledTimes(1);
    expect(reportError).toHaveBeenCalledWith(boom);
  });
});

describe('history gap', () => {
  const gap = {
    id: 'hub-gap-1',
    channel: 'system',
    event: 'refresh',
    data: { reason: 'history-gap', lastEventId: '1-5-0', channels: ['alerts'] },
    timestamp: 1764350000500,
  };

  it("dispatches to 'refresh', then 'history-gap', then '*'", () => {
    const c = client({ lastEventId: '1-5-0' });
    expect(FakeEventSource.urls).toEqual(['/api/sse/stream?lastEventId=1-5-0']);
    const calls: Array<[string, unknown, Envelope]> = [];
    c.addEventListener('refresh', (data, env) => calls.push(['refresh', data, env]));
    c.addEventListener('history-gap', (data, env) => calls.push(['history-gap', data, env]));
    c.addEventListener('*', (data, env) => calls.push(['*', data, env]));
    const source = openConnected({ historyGap: true });
    calls.length = 0;
    source.emit('refresh', gap, { id: '2-0-0' });
    expect(calls).toEqual([
      ['refresh', gap.data, gap],
      ['history-gap', gap.data, gap],
      ['*', gap.data, gap],
    ]);
    expect(c.connectionState.lastEventId).toBe('2-0-0');
  });

  it("does not call 'history-gap' listeners for other refreshes", () => {
    const c = client();
    const onGap = vi.fn();
    const onRefresh = vi.fn();
    c.addEventListener('history-gap', onGap);
    c.addEventListener('refresh', onRefresh);
    openConnected().emit(
      'refresh',
      envelope('alerts', 'refresh', { type: 'cache-invalidation', channel: 'alerts' }),
    );
    expect(onRefresh).toHaveBeenCalledTimes(1);
    expect(onGap).not.toHaveBeenCalled();
  });
});

describe('reconnecting', () => {
  it("leaves the first reconnect of an open stream to the EventSource (it applies the server's retry:)", () => {
    const c = client({ channels: ['toasts'], token: 't1' });
    const source = openConnected();
    source.emit('toast', envelope('toasts', 'toast', {}), { id: '5-10-0' });
    source.fail();
    expect(source.closed).toBe(false);
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(c.connectionState).toEqual({
      status: 'reconnecting',
      reconnectAttempt: 1,
      lastEventId: '5-10-0',
      error: { reason: 'connection-lost', message: 'the stream ended or broke' },
    });
    source.open();
    expect(c.connectionState.status).toBe('connected');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resumes from the last cursor on its own reconnects', () => {
    const c = client({ channels: ['toasts'], token: 't1' });
    const source = openConnected();
    source.emit('toast', envelope('toasts', 'toast', {}), { id: '5-10-0' });
    source.emit('toast', envelope('toasts', 'toast', {}), { id: '5-11-2' });
    source.fail();
    // The EventSource's own reconnect fails too: the client takes over.
    source.fail();
    expect(source.closed).toBe(true);
    vi.advanceTimersByTime(750);
    expect(FakeEventSource.urls).toEqual([
      '/api/sse/stream?channels=toasts&token=t1',
      '/api/sse/stream?channels=toasts&lastEventId=5-11-2&token=t1',
    ]);
    expect(c.connectionState).toEqual({
      status: 'reconnecting',
      reconnectAttempt: 1,
      lastEventId: '5-11-2',
      error: { reason: 'connection-failed', message: 'the stream could not be opened' },
    });
  });

  it('waits an exponential backoff with jitter between attempts', () => {
    const c = client({ reconnectAttempts: 7 });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 7; attempt += 1) {
      const before = FakeEventSource.instances.length;
      FakeEventSource.latest.fail();
      expect(c.connectionState.reconnectAttempt).toBe(attempt);
      let waited = 0;
      while (FakeEventSource.instances.length === before) {
        vi.advanceTimersByTime(1);
        waited += 1;
      }
      delays.push(waited);
    }
    // Nominal 1 s, 2 s, 4 s, ... capped at 30 s; Math.random() = 0.5 takes off 25 %.
    expect(delays).toEqual([750, 1500, 3000, 6000, 12000, 22500, 22500]);
  });

  it('draws a fresh random jitter for every delay', () => {
    vi.mocked(Math.random).mockReturnValueOnce(0).mockReturnValueOnce(0.999);
    const c = client();
    FakeEventSource.latest.fail();
    vi.advanceTimersByTime(999);
    expect(FakeEventSource.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    FakeEventSource.latest.fail();
    vi.advanceTimersByTime(1000);
    expect(FakeEventSource.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(3);
    expect(c.connectionState.reconnectAttempt).toBe(2);
  });

  it('ends in error after the last attempt fails, as a refused request does', () => {
    const c = client({ reconnectAttempts: 3 });
    const states = recordStates(c);
    FakeEventSource.latest.fail(401);
    for (const delay of [750, 1500, 3000]) {
      vi.advanceTimersByTime(delay);
      FakeEventSource.latest.fail(401);
    }
    const failed = {
      reason: 'connection-failed',
      message: 'the stream could not be opened (HTTP 401)',
      status: 401,
    };
    expect(states.map((s) => [s.status, s.reconnectAttempt])).toEqual([
      ['reconnecting', 1],
      ['reconnecting', 2],
      ['reconnecting', 3],
      ['error', 3],
    ]);
    expect(c.connectionState).toEqual({ status: 'error', reconnectAttempt: 3, error: failed });
    expect(FakeEventSource.instances).toHaveLength(4);
    expect(FakeEventSource.instances.every((s) => s.closed)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(120_000);
    expect(FakeEventSource.instances).toHaveLength(4);
  });

  it('gives up at once with reconnectAttempts = 0', () => {
    const c = client({ reconnectAttempts: 0 });
    FakeEventSource.latest.fail();
    expect(c.connectionState).toEqual({
      status: 'error',
      reconnectAttempt: 0,
      error: { reason: 'connection-failed', message: 'the stream could not be opened' },
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('starts counting attempts again after a successful open', () => {
    const c = client();
    FakeEventSource.latest.fail();
    vi.advanceTimersByTime(750);
    FakeEventSource.latest.fail();
    vi.advanceTimersByTime(1500);
    expect(c.connectionState.reconnectAttempt).toBe(2);
    openConnected();
    expect(c.connectionState.reconnectAttempt).toBe(0);
    FakeEventSource.latest.fail();
    FakeEventSource.latest.fail();
    expect(c.connectionState.reconnectAttempt).toBe(1);
    vi.advanceTimersByTime(749);
    expect(FakeEventSource.instances).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(FakeEventSource.instances).toHaveLength(4);
  });

  it('reconnects by hand from error with a fresh budget of attempts', () => {
    const c = client({ reconnectAttempts: 1 });
    FakeEventSource.latest.fail();
    vi.advanceTimersByTime(750);
    FakeEventSource.latest.fail();
    expect(c.connectionState.status).toBe('error');
    c.reconnect();
    expect(FakeEventSource.instances).toHaveLength(3);
    expect(c.connectionState).toEqual({ status: 'connecting', reconnectAttempt: 0 });
    FakeEventSource.latest.fail();
    expect(c.connectionState.status).toBe('reconnecting');
    expect(c.connectionState.reconnectAttempt).toBe(1);
    vi.advanceTimersByTime(750);
    expect(FakeEventSource.instances).toHaveLength(4);
  });

  it('reconnects by hand from an open stream, resuming, and cancels a pending reconnect', () => {
    const c = client();
    const first = openConnected();
    first.emit('toast', envelope('toasts', 'toast', {}), { id: '8-1-0' });
    c.reconnect();
    expect(first.closed).toBe(true);
    expect(FakeEventSource.urls[1]).toBe('/api/sse/stream?lastEventId=8-1-0');
    FakeEventSource.latest.fail();
    c.reconnect();
    expect(FakeEventSource.instances).toHaveLength(3);
    vi.advanceTimersByTime(60_000);
    expect(FakeEventSource.instances).toHaveLength(3);
  });
});

describe('heartbeat watchdog', () => {
  it('reconnects after 2.5 heartbeat intervals without an event', () => {
    const c = client();
    const source = openConnected({ heartbeatInterval: 10000 });
    vi.advanceTimersByTime(24999);
    expect(source.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(source.closed).toBe(true);
    expect(c.connectionState).toEqual({
      status: 'reconnecting',
      reconnectAttempt: 1,
      error: { reason: 'heartbeat-timeout', message: 'no event for 25000 ms' },
    });
    vi.advanceTimersByTime(750);
    expect(FakeEventSource.instances).toHaveLength(2);
  });

  it('restarts its countdown on every event, heartbeats included', () => {
    client({ heartbeatTimeoutFactor: 2 });
    const source = openConnected({ heartbeatInterval: 15000 });
    vi.advanceTimersByTime(29999);
    source.emit('heartbeat', { timestamp: 1 });
    vi.advanceTimersByTime(29999);
    source.emit('toast', envelope('toasts', 'toast', {}));
    vi.advanceTimersByTime(29999);
    expect(source.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(source.closed).toBe(true);
  });

  it('does not run before the connected event or with a factor of 0', () => {
    client();
    FakeEventSource.latest.open();
    vi.advanceTimersByTime(600_000);
    expect(FakeEventSource.latest.closed).toBe(false);

    FakeEventSource.reset();
    client({ heartbeatTimeoutFactor: 0 });
    const source = openConnected();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(600_000);
    expect(source.closed).toBe(false);
  });
});

describe('close', () => {
  it('closes the EventSource and stops every timer', () => {
    const c = client();
    const source = openConnected();
    expect(vi.getTimerCount()).toBe(1);
    c.close();
    expect(source.closed).toBe(true);
    expect(c.connectionState).toEqual({ status: 'closed', reconnectAttempt: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels a pending reconnect', () => {
    const c = client();
    FakeEventSource.latest.fail();
    c.close();
    vi.advanceTimersByTime(60_000);
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(c.connectionState.status).toBe('closed');
  });

  it('keeps listeners and the cursor for a later connect()', () => {
    const c = client();
    const handler = vi.fn();
    c.addEventListener('toast', handler);
    openConnected().emit('toast', envelope('toasts', 'toast', 1), { id: '6-0-0' });
    c.close();
    c.connect();
    expect(FakeEventSource.urls[1]).toBe('/api/sse/stream?lastEventId=6-0-0');
    openConnected().emit('toast', envelope('toasts', 'toast', 2), { id: '6-1-0' });
    expect(handler.mock.calls.map(([data]) => data)).toEqual([1, 2]);
  });
});

describe('backoffDelay', () => {
  const options = { reconnectDelay: 1000, maxReconnectDelay: 30000, jitter: 0.5 };

  it('doubles from reconnectDelay up to maxReconnectDelay', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, { ...options, jitter: 0 }));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('takes off up to the jitter share of the nominal delay', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(4000);
    expect(backoffDelay(3, options, () => 0.5)).toBe(3000);
    expect(backoffDelay(3, options, () => 0.99)).toBe(2020);
    expect(backoffDelay(3, { ...options, jitter: 1 }, () => 0.75)).toBe(1000);
  });
});
