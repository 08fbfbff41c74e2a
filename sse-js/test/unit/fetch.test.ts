import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { SSEClient } from '../../src/index.js';
import type { ConnectionState, SSEClientOptions } from '../../src/index.js';
import { EventStreamParser, type ParsedEvent } from '../../src/parser.js';
import { parseRetryAfter } from '../../src/transport.js';
import { FakeFetch, settle } from './fake-fetch.js';

const URL = '/api/sse/stream';
let server: FakeFetch;

function client(options: SSEClientOptions = {}): SSEClient {
  return new SSEClient(URL, { transport: 'fetch', fetch: server.fetch, ...options });
}

function recordStates(c: SSEClient): ConnectionState[] {
  const states: ConnectionState[] = [];
  c.onStateChange((state) => states.push(state));
  return states;
}

const connected = (id = 'conn-1') =>
  `event: connected\ndata: ${JSON.stringify({
    id,
    channel: 'system',
    event: 'connected',
    data: { connectionId: id, heartbeatInterval: 15000 },
    timestamp: 1,
  })}\n\n`;

const toast = (id: string, message: string) =>
  `event: toast\nid: ${id}\ndata: ${JSON.stringify({
    id: `m-${id}`,
    channel: 'toasts',
    event: 'toast',
    data: { message },
    timestamp: 2,
  })}\n\n`;

beforeEach(() => {
  server = new FakeFetch();
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the fetch transport', () => {
  it('sends the token as a bearer header, asking the token function before every attempt', async () => {
    let n = 0;
    const token = vi.fn(async () => `t${++n}`);
    const c = client({ channels: ['toasts'], token, headers: { 'x-app': 'shop' } });
    await settle();
    expect(server.latest.url).toBe('/api/sse/stream?channels=toasts');
    expect(server.latest.headers).toEqual({
      accept: 'text/event-stream',
      authorization: 'Bearer t1',
      'x-app': 'shop',
    });
    expect(server.latest.credentials).toBe('same-origin');
    server.latest.refuse(401, { error: 'unauthorized', message: 'authentication required' });
    await settle();
    expect(c.connectionState.error).toEqual({
      reason: 'connection-failed',
      message: 'the stream could not be opened (HTTP 401)',
      status: 401,
      code: 'unauthorized',
    });
    await vi.advanceTimersByTimeAsync(750);
    await settle();
    expect(token).toHaveBeenCalledTimes(2);
    expect(server.latest.headers['authorization']).toBe('Bearer t2');
    c.close();
  });

  it('delivers events split anywhere, and resumes with Last-Event-ID', async () => {
    const c = client({ channels: ['toasts'] });
    const got: string[] = [];
    c.addEventListener('toast', (data: { message: string }) => got.push(data.message));
    await settle();
    server.latest.open();
    await settle();
    const text = connected() + toast('1-5-0', 'first') + toast('1-6-0', 'second');
    for (const piece of [text.slice(0, 7), text.slice(7, 100), text.slice(100)]) {
      server.latest.write(piece);
      await settle();
    }
    expect(got).toEqual(['first', 'second']);
    expect(c.connectionState).toEqual({
      status: 'connected',
      reconnectAttempt: 0,
      connectionId: 'conn-1',
      lastEventId: '1-6-0',
    });
    // The stream breaks; without a retry: hint the first reconnect waits the backoff.
    server.latest.fail();
    await settle();
    expect(c.connectionState.status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(750);
    expect(server.requests).toHaveLength(2);
    expect(server.latest.url).toBe('/api/sse/stream?channels=toasts&lastEventId=1-6-0');
    expect(server.latest.headers['last-event-id']).toBe('1-6-0');
    c.close();
    expect(server.latest.aborted).toBe(true);
  });

  it("waits the server's retry: after a stream it ended (the shutdown jitter)", async () => {
    const c = client();
    await settle();
    server.latest.open();
    server.latest.write(`retry: 4321\n\n${connected()}`);
    await settle();
    server.latest.end();
    await settle();
    expect(c.connectionState.status).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(4320);
    expect(server.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests).toHaveLength(2);
    c.close();
  });

  it('waits at least Retry-After after a 429 or a 503', async () => {
    const c = client();
    await settle();
    server.latest.refuse(
      429,
      { error: 'too_many_requests', message: 'slow down' },
      { 'retry-after': '7' },
    );
    await settle();
    expect(c.connectionState.error).toEqual({
      reason: 'connection-failed',
      message: 'the stream could not be opened (HTTP 429)',
      status: 429,
      code: 'too_many_requests',
      retryAfter: 7000,
    });
    await vi.advanceTimersByTimeAsync(6999);
    expect(server.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests).toHaveLength(2);
    server.latest.refuse(503, { error: 'service_unavailable', message: 'later' }, { 'retry-after': '1' });
    await settle();
    // The backoff (1.5 s for the second attempt) is longer than Retry-After here.
    await vi.advanceTimersByTimeAsync(1499);
    expect(server.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests).toHaveLength(3);
    c.close();
  });

  it('stops on a ban, with its end', async () => {
    const c = client();
    await settle();
    server.latest.refuse(403, { error: 'banned', message: 'this user is banned', until: 1800000000000 });
    await settle();
    expect(c.connectionState).toEqual({
      status: 'error',
      reconnectAttempt: 0,
      error: {
        reason: 'banned',
        message: 'this user is banned',
        status: 403,
        code: 'banned',
        until: 1800000000000,
      },
    });
    expect(vi.getTimerCount()).toBe(0);
    // A plain 403 is retried: a role may be granted later.
    c.reconnect();
    await settle();
    server.latest.refuse(403, { error: 'forbidden', message: 'no' });
    await settle();
    expect(c.connectionState.status).toBe('reconnecting');
    c.close();
  });

  it('stops on 204 No Content', async () => {
    const c = client();
    await settle();
    server.latest.refuse(204);
    await settle();
    expect(c.connectionState).toEqual({
      status: 'closed',
      reconnectAttempt: 0,
      error: {
        reason: 'server-closed',
        message: 'the server asked not to reconnect (HTTP 204)',
        status: 204,
      },
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reconnects at once with a fresh token after an auth-expired refresh, resuming', async () => {
    let n = 0;
    const c = client({ token: () => `t${++n}` });
    const states = recordStates(c);
    const refreshes: unknown[] = [];
    c.addEventListener('refresh', (data) => refreshes.push(data));
    await settle();
    server.latest.open();
    server.latest.write(connected() + toast('1-7-0', 'a'));
    server.latest.write(
      `event: refresh\ndata: ${JSON.stringify({ reason: 'auth-expired' })}\n\nretry: 3000\n\n`,
    );
    await settle();
    expect(refreshes).toEqual([{ reason: 'auth-expired' }]);
    expect(server.requests[0]?.aborted).toBe(true);
    expect(states.at(-1)).toEqual({
      status: 'reconnecting',
      reconnectAttempt: 1,
      lastEventId: '1-7-0',
      error: {
        reason: 'auth-expired',
        message: 'the credentials expired or were revoked; reconnecting with a fresh token',
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(server.requests).toHaveLength(2);
    expect(server.latest.headers['authorization']).toBe('Bearer t2');
    expect(server.latest.headers['last-event-id']).toBe('1-7-0');
    c.close();
  });

  it('keeps reconnecting by default, the backoff capped', async () => {
    const c = client();
    await settle();
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      server.latest.reject();
      await settle();
      expect(c.connectionState.status).toBe('reconnecting');
      expect(c.connectionState.reconnectAttempt).toBe(attempt);
      await vi.advanceTimersByTimeAsync(22500);
      await settle();
    }
    expect(server.requests).toHaveLength(13);
    c.close();
  });

  it('reconnects when the token function fails', async () => {
    const token = vi.fn().mockRejectedValueOnce(new Error('offline')).mockResolvedValue('t');
    const c = client({ token });
    await settle();
    expect(server.requests).toHaveLength(0);
    expect(c.connectionState.error).toEqual({
      reason: 'token-failed',
      message: 'the token could not be had: offline',
    });
    await vi.advanceTimersByTimeAsync(750);
    await settle();
    expect(server.requests).toHaveLength(1);
    c.close();
  });
});

describe('the event-stream parser', () => {
  function parse(chunks: string[], lastEventId = ''): { events: ParsedEvent[]; retries: number[] } {
    const events: ParsedEvent[] = [];
    const retries: number[] = [];
    const parser = new EventStreamParser(
      { event: (e) => events.push(e), retry: (ms) => retries.push(ms) },
      lastEventId,
    );
    for (const chunk of chunks) {
      parser.feed(chunk);
    }
    return { events, retries };
  }

  it('splits lines on CR, LF and CRLF, also across chunks, after a BOM', () => {
    const { events } = parse(['\uFEFFdata: a\r', '\ndata: b\r\r', 'event: x\ndata:c\n', '\n']);
    expect(events).toEqual([
      { type: 'message', data: 'a\nb', lastEventId: '' },
      { type: 'x', data: 'c', lastEventId: '' },
    ]);
  });

  it('keeps the last event id, ignores comments, unknown fields and events without data', () => {
    const { events, retries } = parse([
      ': comment\nid: 7\nfoo: bar\n\nevent: e\n\ndata\n\nid: 8\0\ndata: d\nretry: 12x\nretry: 250\n\n',
    ]);
    expect(events).toEqual([
      { type: 'message', data: '', lastEventId: '7' },
      { type: 'message', data: 'd', lastEventId: '7' },
    ]);
    expect(retries).toEqual([250]);
  });

  it('does not dispatch an event the stream did not finish', () => {
    expect(parse(['data: half'], '3').events).toEqual([]);
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.UTC(2026, 0, 1))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('the EventSource transport', () => {
  it('probes a refused stream with fetch to tell a ban from a failure that is worth retrying', async () => {
    const { FakeEventSource } = await import('./fake-event-source.js');
    FakeEventSource.reset();
    const c = new SSEClient(URL, { EventSource: FakeEventSource, fetch: server.fetch, token: 'bob' });
    FakeEventSource.latest.fail(403);
    expect(FakeEventSource.latest.closed).toBe(true);
    await settle();
    expect(server.latest.url).toBe('/api/sse/stream?token=bob');
    expect(server.latest.headers).toEqual({ accept: 'text/event-stream' });
    server.latest.refuse(403, { error: 'banned', message: 'this user is banned', until: 42 });
    await settle();
    expect(c.connectionState.error).toEqual({
      reason: 'banned',
      message: 'this user is banned',
      status: 403,
      code: 'banned',
      until: 42,
    });
    expect(vi.getTimerCount()).toBe(0);

    // A probe the server opens a stream for is closed at once; the client retries.
    c.reconnect();
    FakeEventSource.latest.fail();
    await settle();
    server.latest.open();
    await settle();
    expect(server.latest.aborted).toBe(true);
    expect(c.connectionState.status).toBe('reconnecting');
    expect(c.connectionState.error).toEqual({
      reason: 'connection-failed',
      message: 'the stream could not be opened',
    });
    c.close();
  });
});
