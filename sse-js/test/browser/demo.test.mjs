// The demo page in a real headless Chromium (Debian's, driven by playwright-core): two users
// side by side. Screenshots of each step go to target/browser-artifacts (not committed).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { artifact, launchChromium } from '../support/browser.mjs';
import { api, startDemo } from '../support/demo.mjs';

let demo;
let browser;
let alice;
let bob;

async function pageAs(token) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${demo.url}/?as=${token}`);
  await page.waitForSelector('#status[data-status="connected"]', { timeout: 10_000 });
  return page;
}

async function snap(name) {
  await alice.screenshot({ path: artifact(`${name}-alice.png`) });
  await bob.screenshot({ path: artifact(`${name}-bob.png`) });
}

/** A notification to both pages; once it shows on a page, everything sent before it has too. */
async function marker(n) {
  await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'notifications', event: 'notification', data: { title: `marker ${n}` }, target: 'authenticated',
  });
  for (const page of [alice, bob]) {
    await page.locator('#notifications li', { hasText: `marker ${n}` }).waitFor({ timeout: 5_000 });
  }
}

before(async () => {
  demo = await startDemo();
  browser = await launchChromium();
  alice = await pageAs('alice-token');
  bob = await pageAs('bob-token');
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test('a toast sent to one user shows only on that page', async () => {
  await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'toasts', event: 'toast', data: { message: 'For Alice only', type: 'success', duration: 60000 },
    target: 'user-specific', targetUsers: [2],
  });
  await alice.locator('.toast', { hasText: 'For Alice only' }).waitFor({ timeout: 5_000 });
  await marker(1);
  assert.equal(await bob.locator('.toast').count(), 0);
  await snap('1-toast');
});

test('a role-targeted alert appears only where the role matches', async () => {
  await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'alerts', event: 'alert', data: { id: 'editors', message: 'Editors: review queue is full' },
    target: 'role-based', targetRoles: ['editor'],
  });
  await alice.locator('#alerts .alert', { hasText: 'review queue is full' }).waitFor({ timeout: 5_000 });
  await marker(2);
  assert.equal(await bob.locator('#alerts .alert').count(), 0);
  await snap('2-alert');
});

test('the banner board shows on the pages, and an invalidation refetches it', async () => {
  await api(demo.url, 'PUT', '/api/alerts/board-1', 'admin-token', { message: 'Board banner', level: 'critical' });
  for (const page of [alice, bob]) {
    await page.locator('#alerts .alert[data-id="board-1"][data-level="critical"]', { hasText: 'Board banner' })
      .waitFor({ timeout: 5_000 });
  }
  // Alice still shows the role-targeted alert of the test before, which is not on the board.
  assert.equal(await alice.locator('#alerts .alert[data-id="editors"]').count(), 1);
  const refetched = alice.waitForResponse(
    (response) => new URL(response.url()).pathname === '/api/alerts' && response.request().method() === 'GET',
    { timeout: 5_000 },
  );
  await api(demo.url, 'POST', '/api/alerts/invalidate', 'admin-token');
  await refetched;
  // The refetch replaced the list with the board.
  await alice.locator('#alerts .alert[data-id="editors"]').waitFor({ state: 'detached', timeout: 5_000 });
  assert.deepEqual(await alice.locator('#alerts .alert').evaluateAll((nodes) => nodes.map((n) => n.dataset.id)), ['board-1']);
  await api(demo.url, 'DELETE', '/api/alerts/board-1', 'admin-token');
  await bob.locator('#alerts .alert[data-id="board-1"]').waitFor({ state: 'detached', timeout: 5_000 });
});

test('the chat shows who is online, from the presence list and its events', async () => {
  // Bob's page was open before Alice's: the list; Alice's page after Bob's: the join event.
  await alice.locator('#online li[data-user-id="3"]').waitFor({ timeout: 5_000 });
  await bob.locator('#online li[data-user-id="2"]').waitFor({ timeout: 5_000 });
  const online = await alice.locator('#online li').allTextContents();
  assert.deepEqual(online, ['user 2', 'user 3']);
});

test('chat messages and typing indicators reach the other page', async () => {
  await alice.locator('#chat-input').pressSequentially('hel');
  await bob.locator('#typing', { hasText: 'Alice is typing' }).waitFor({ timeout: 5_000 });
  await alice.locator('#chat-input').fill('hello Bob');
  await alice.locator('#chat-form button').click();
  await bob.locator('#chat-log li', { hasText: 'Alice: hello Bob' }).waitFor({ timeout: 5_000 });
  await snap('3-chat');
});

test('after the server drops a page, it reconnects and shows what it missed exactly once', async () => {
  await api(demo.url, 'DELETE', '/api/sse/users/3/connections', 'admin-token');
  await bob.waitForSelector('#status:not([data-status="connected"])', { timeout: 5_000 });
  await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'notifications', event: 'notification', data: { title: 'While you were away' },
    target: 'user-specific', targetUsers: [3],
  });
  await bob.waitForSelector('#status[data-status="connected"]', { timeout: 10_000 });
  await bob.locator('#notifications li', { hasText: 'While you were away' }).waitFor({ timeout: 5_000 });
  await marker(3);
  assert.equal(await bob.locator('#notifications li', { hasText: 'While you were away' }).count(), 1);
  await snap('4-resume');
});

test('the admin panel charts deliveries, drops and open streams live', async () => {
  const admin = await pageAs('admin-token');
  // Two polls two seconds apart make the first sample; messages flow in between.
  for (let n = 0; n < 3; n += 1) {
    await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
      channel: 'notifications', event: 'notification', data: { title: `chart ${n}` }, target: 'authenticated',
    });
  }
  const legend = admin.locator('#statistics-legend li[data-instance="this instance"]');
  await legend.waitFor({ timeout: 10_000 });
  assert.match(await legend.textContent(), /^this instance: \d+ streams, \d+\.\d deliveries\/s$/);
  for (const chart of ['#chart-deliveries', '#chart-streams']) {
    assert.equal(await admin.locator(`${chart} polyline[data-series="this instance"]`).count(), 1);
  }
  assert.equal(await admin.locator('#chart-drops polyline').count(), 5);
  // A second sample draws the lines.
  await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'notifications', event: 'notification', data: { title: 'chart 3' }, target: 'authenticated',
  });
  await admin.waitForFunction(
    () => document.querySelector('#chart-streams polyline')?.getAttribute('points')?.includes(' '),
    null,
    { timeout: 10_000 },
  );
  await admin.locator('#statistics').screenshot({ path: artifact('5-admin-statistics.png') });
  await admin.context().close();
});

test('the admin panel explains why a user did not get a message', async () => {
  const admin = await pageAs('admin-token');
  const report = await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'toasts', event: 'toast', data: { message: 'Alice only', type: 'info' },
    target: 'user-specific', targetUsers: [2],
  });
  await admin.locator('#explain [name="message"]').fill(report.cursor);
  await admin.locator('#explain [name="userId"]').fill('3');
  await admin.locator('#explain button').click();
  const row = admin.locator('#explanation tbody tr').first();
  await row.waitFor({ timeout: 5_000 });
  assert.equal(await row.getAttribute('data-outcome'), 'not-recipient');
  assert.equal(await row.locator('td:nth-child(4)').textContent(), 'the user is not among targetUsers');
  await admin.screenshot({ path: artifact('6-explain-admin.png'), fullPage: true });
  await admin.context().close();
});

test('an admin bans a user from the panel: the stream ends everywhere and reconnects get 403', async () => {
  const admin = await pageAs('admin-token');
  const bobsRow = admin.locator('#connections tbody tr', { has: admin.locator('td:nth-child(3)', { hasText: /^3$/ }) });
  await bobsRow.first().waitFor({ timeout: 10_000 });
  const instance = await bobsRow.first().locator('td:nth-child(2)').textContent();
  assert.match(instance, /^[0-9a-f]{16}$/);
  await bobsRow.first().getByRole('button', { name: 'Ban 10 min' }).click();
  await bob.waitForSelector('#status:not([data-status="connected"])', { timeout: 5_000 });
  // The page's EventSource is refused; the client's probe finds the ban, and it stops.
  await bob.waitForSelector('#status[data-status="error"][data-reason="banned"]', { timeout: 10_000 });
  assert.equal(await bob.locator('#status').textContent(), 'error (banned)');
  await bobsRow.first().waitFor({ state: 'detached', timeout: 5_000 });
  const rows = await api(demo.url, 'GET', '/api/sse/connections', 'admin-token');
  assert.deepEqual(rows.filter((row) => row.userId === '3'), []);
  const refused = await fetch(`${demo.url}/api/sse/stream?channels=notifications&token=bob-token`);
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error, 'banned');
  await admin.screenshot({ path: artifact('7-ban-admin.png') });
  assert.equal(await api(demo.url, 'DELETE', '/api/sse/users/3/ban', 'admin-token'), null);
  const lifted = await fetch(`${demo.url}/api/sse/stream?channels=notifications&token=bob-token`);
  assert.equal(lifted.status, 200);
  await lifted.body.cancel();
  await admin.context().close();
});

test('the fetch transport sends a bearer header from a token function and receives a toast', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${demo.url}/style.css`);
  await page.evaluate(async () => {
    const { SSEClient } = await import('/sse-js/index.js');
    window.toasts = [];
    window.asked = 0;
    window.client = new SSEClient('/api/sse/stream', {
      transport: 'fetch',
      channels: ['toasts'],
      token: async () => { window.asked += 1; return 'alice-token'; },
    });
    window.client.addEventListener('toast', (data) => window.toasts.push(data.message));
  });
  await page.waitForFunction(() => window.client.connectionState.connectionId !== undefined, null, { timeout: 10_000 });
  const rows = await api(demo.url, 'GET', '/api/sse/connections', 'admin-token');
  const id = await page.evaluate(() => window.client.connectionState.connectionId);
  assert.equal(rows.find((row) => row.id === id)?.userId, '2');
  await api(demo.url, 'POST', '/api/sse/publish', 'admin-token', {
    channel: 'toasts', event: 'toast', data: { message: 'by fetch', type: 'info' },
    target: 'user-specific', targetUsers: [2],
  });
  await page.waitForFunction(() => window.toasts.length === 1, null, { timeout: 5_000 });
  assert.deepEqual(await page.evaluate(() => [window.toasts, window.asked]), [['by fetch'], 1]);
  await page.evaluate(() => window.client.close());
  await context.close();
});
