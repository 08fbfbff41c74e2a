// One connection per browser in a real headless Chromium: three tabs of one origin share one
// stream (Web Locks elect the leader, BroadcastChannel carries the events), and closing the
// leader's tab moves the stream to another tab without losing a message.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { launchChromium } from '../support/browser.mjs';
import { api, startDemo } from '../support/demo.mjs';

let demo;
let browser;

before(async () => {
  demo = await startDemo();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** A tab with a shared client for Alice, recording the notifications it receives. */
async function tab(context) {
  const page = await context.newPage();
  await page.goto(`${demo.url}/style.css`);
  await page.evaluate(async () => {
    const { SSEClient } = await import('/sse-js/index.js');
    window.seen = [];
    window.client = new SSEClient('/api/sse/stream', {
      channels: ['notifications'],
      token: 'alice-token',
      share: true,
    });
    window.client.addEventListener('notification', (data) => window.seen.push(data.n));
  });
  return page;
}

const notify = (n) => api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
  channel: 'notifications', event: 'notification', data: { n }, target: 'user-specific', targetUsers: [2],
});

const roles = (pages) => Promise.all(pages.map((page) => page.evaluate(() => window.client.sharing)));
const seen = (page) => page.evaluate(() => window.seen);

test('three tabs share one stream; closing the leader loses nothing', async (t) => {
  const context = await browser.newContext();
  const streams = [];
  context.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/sse/stream') streams.push(request);
  });
  const tabs = [await tab(context), await tab(context), await tab(context)];
  for (const page of tabs) {
    await page.waitForFunction(() => window.client.isConnected, null, { timeout: 10_000 });
  }
  assert.deepEqual(await roles(tabs), ['leader', 'follower', 'follower']);
  assert.equal(streams.length, 1, 'one network stream for three tabs');

  for (const n of [1, 2, 3]) await notify(n);
  for (const page of tabs) {
    await page.waitForFunction(() => window.seen.length === 3, null, { timeout: 5_000 });
  }
  for (const page of tabs) assert.deepEqual(await seen(page), [1, 2, 3]);

  // The leader's tab closes; a message sent during the handover still arrives, once.
  const closed = Date.now();
  await tabs[0].close();
  await notify(4);
  const rest = tabs.slice(1);
  await rest[0].waitForFunction(() => window.client.sharing === 'leader', null, { timeout: 1_000 });
  t.diagnostic(`a new leader within ${Date.now() - closed} ms of the close`);
  await notify(5);
  for (const page of rest) {
    await page.waitForFunction(() => window.seen.length === 5, null, { timeout: 10_000 });
  }
  for (const page of rest) assert.deepEqual(await seen(page), [1, 2, 3, 4, 5]);
  assert.deepEqual(await roles(rest), ['leader', 'follower']);
  assert.equal(streams.length, 2, 'the new leader opened the only other stream');
  const resumed = new URL(streams[1].url()).searchParams.get('lastEventId');
  assert.ok(resumed, 'the new leader resumed from the last event id');
  await context.close();
});
