// The browser client in Node against the real demo server, with both transports: the
// `eventsource` package's EventSource, and the fetch transport (Node's own fetch).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventSource } from 'eventsource';

import { SSEClient } from '../../dist/index.js';
import { api, startDemo, until } from '../support/demo.mjs';

let demo;
before(async () => { demo = await startDemo(); });
after(async () => { await demo?.stop(); });

for (const transport of ['eventsource', 'fetch']) describe(`the ${transport} transport`, () => {
function client(token, options = {}) {
  return new SSEClient(`${demo.url}/api/sse/stream`, {
    token, EventSource, transport, reconnectDelay: 50, ...options,
  });
}

test('receives targeted messages with payload and envelope', async () => {
  const alice = client('alice-token');
  const toasts = [];
  alice.addEventListener('toast', (data, envelope) => toasts.push({ data, envelope }));
  await until(() => alice.isConnected, 'alice is connected');
  const report = await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'toasts', event: 'toast', data: { message: 'Saved', type: 'success' },
    target: 'user-specific', targetUsers: [2],
  });
  assert.equal(report.sent, 1);
  await until(() => toasts.length === 1, 'the toast arrives');
  assert.deepEqual(toasts[0].data, { message: 'Saved', type: 'success' });
  assert.equal(toasts[0].envelope.id, report.id);
  assert.equal(toasts[0].envelope.channel, 'toasts');
  assert.equal(alice.connectionState.lastEventId, report.cursor);
  alice.close();
  assert.equal(alice.connectionState.status, 'closed');
});

test('resumes after the server drops it, with the missed message exactly once', async () => {
  const bob = client('bob-token');
  const seen = [];
  bob.addEventListener('notification', (data) => seen.push(data.n));
  await until(() => bob.isConnected, 'bob is connected');
  const first = bob.connectionState.connectionId;
  await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'notifications', event: 'notification', data: { n: 1 }, target: 'user-specific', targetUsers: [3],
  });
  await until(() => seen.length === 1, 'the first notification');
  const statuses = [];
  bob.onStateChange((state) => statuses.push(state.status));
  await api(demo.url, 'DELETE', '/api/sse/users/3/connections', 'admin-token');
  await until(() => statuses.includes('reconnecting'), 'bob notices the drop');
  // Sent while bob is away: it must arrive once, after the reconnect.
  await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'notifications', event: 'notification', data: { n: 2 }, target: 'user-specific', targetUsers: [3],
  });
  await until(() => bob.isConnected && bob.connectionState.connectionId !== first, 'bob is back');
  await until(() => seen.length === 2, 'the missed notification');
  await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'notifications', event: 'notification', data: { n: 3 }, target: 'user-specific', targetUsers: [3],
  });
  await until(() => seen.length === 3, 'a live notification');
  assert.deepEqual(seen, [1, 2, 3]);
  bob.close();
});

test('a cursor history does not cover gets the history-gap refresh', async () => {
  const gaps = [];
  const alice = client('alice-token', { lastEventId: '1-1-0' });
  alice.addEventListener('history-gap', (data) => gaps.push(data));
  await until(() => gaps.length === 1, 'the history-gap refresh');
  assert.equal(gaps[0].reason, 'history-gap');
  assert.equal(gaps[0].lastEventId, '1-1-0');
  alice.close();
});

test('an unknown token ends in the error state after the attempts it was given, with the status', async () => {
  let opened = 0;
  class Counting extends EventSource {
    constructor(...args) { super(...args); opened += 1; }
  }
  const counting = (...args) => { opened += 1; return fetch(...args); };
  const intruder = client('nope', {
    EventSource: Counting, reconnectAttempts: 2, ...(transport === 'fetch' ? { fetch: counting } : { probe: false }),
  });
  await until(() => intruder.connectionState.status === 'error', 'the error state');
  assert.equal(opened, 3);
  assert.equal(intruder.connectionState.error.reason, 'connection-failed');
  assert.equal(intruder.connectionState.error.status, 401);
  if (transport === 'fetch') assert.equal(intruder.connectionState.error.code, 'invalid_token');
  intruder.close();
});

test('a ban stops the client, with its end; after the unban it connects again', async () => {
  const bob = client('bob-token');
  await until(() => bob.isConnected, 'bob is connected');
  await api(demo.url, 'DELETE', '/api/sse/users/3/connections?ban=60', 'admin-token');
  await until(() => bob.connectionState.status === 'error', 'bob stops');
  const { error } = bob.connectionState;
  assert.equal(error.reason, 'banned');
  assert.equal(error.status, 403);
  assert.equal(error.code, 'banned');
  assert.ok(error.until > Date.now() + 50_000, `until ${error.until}`);
  await api(demo.url, 'DELETE', '/api/sse/users/3/ban', 'admin-token');
  bob.reconnect();
  await until(() => bob.isConnected, 'bob is back after the unban');
  bob.close();
});

test('a revocation reconnects at once with a fresh token and loses nothing', async () => {
  const tokens = [];
  const bob = client(async () => { tokens.push('bob-token'); return 'bob-token'; });
  const seen = [];
  bob.addEventListener('notification', (data) => seen.push(data.n));
  await until(() => bob.isConnected, 'bob is connected');
  const first = bob.connectionState.connectionId;
  const send = (n) => api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'notifications', event: 'notification', data: { n }, target: 'user-specific', targetUsers: [3],
  });
  await send(1);
  await until(() => seen.length === 1, 'the first notification');
  const reasons = [];
  bob.onStateChange((state) => reasons.push(state.error?.reason));
  const revoked = await api(demo.url, 'POST', '/api/sse/users/3/revoke', 'admin-token');
  assert.equal(revoked.revoked, 1);
  await send(2);
  await until(() => bob.isConnected && bob.connectionState.connectionId !== first, 'bob is back');
  await send(3);
  await until(() => seen.length === 3, 'every notification');
  assert.deepEqual(seen, [1, 2, 3]);
  assert.ok(reasons.includes('auth-expired'), `reasons ${reasons}`);
  assert.equal(tokens.length, 2);
  bob.close();
});
});
