// The React example app (/react/, built from sse-js/examples/react and embedded in the demo) in
// a real headless Chromium against the real demo: the fetch transport with a bearer token, the
// brief's NotificationSystem and BannerSystem, and the admin panel.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { artifact, launchChromium } from '../support/browser.mjs';
import { api, startDemo } from '../support/demo.mjs';

let demo;
let browser;
let alice;
let bob;

/** The app signed in with `token`, its stream requests recorded in `page.streams`. */
async function appAs(token) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.streams = [];
  page.alertLoads = 0;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/api/sse/stream') page.streams.push(request);
    if (url.pathname === '/api/alerts' && request.method() === 'GET') page.alertLoads += 1;
  });
  await page.goto(`${demo.url}/react/?as=${token}`);
  await page.waitForSelector('#status[data-status="connected"]', { timeout: 10_000 });
  return page;
}

const publish = (body) => api(demo.url, 'POST', '/api/sse/publish', 'admin-token', body);
const notify = (users, title) =>
  publish({ channel: 'notifications', event: 'notification', data: { title }, target: 'user-specific', targetUsers: users });

before(async () => {
  demo = await startDemo();
  browser = await launchChromium();
  alice = await appAs('alice-token');
  bob = await appAs('bob-token');
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test('the stream is one fetch per page with a bearer header, no token in the URL', async () => {
  for (const [page, token] of [[alice, 'alice-token'], [bob, 'bob-token']]) {
    // StrictMode mounts twice and three components use the stream: still one connection.
    assert.equal(page.streams.length, 1);
    const [request] = page.streams;
    assert.equal(request.headers().authorization, `Bearer ${token}`);
    assert.equal(new URL(request.url()).searchParams.get('token'), null);
    assert.equal(new URL(request.url()).searchParams.get('channels'), 'alerts,system,notifications,toasts');
  }
});

test('a toast sent to one user shows only on that page', async () => {
  await publish({ channel: 'toasts', event: 'toast', data: { message: 'Saved', type: 'success' },
    target: 'user-specific', targetUsers: [2] });
  await alice.locator('#toasts li', { hasText: 'Saved' }).waitFor({ timeout: 5_000 });
  // Everything sent before this notification has reached bob once it shows.
  await notify([2, 3], 'marker 1');
  await bob.locator('#notifications li', { hasText: 'marker 1' }).waitFor({ timeout: 5_000 });
  assert.equal(await bob.locator('#toasts li').count(), 0);
  assert.equal(await alice.locator('#toasts li', { hasText: 'Saved' }).count(), 1);
  await alice.screenshot({ path: artifact('react-1-toast-alice.png') });
});

test('a banner update shows on every page; an invalidation refetches the board', async () => {
  await api(demo.url, 'PUT', '/api/alerts/maintenance', 'admin-token', {
    message: 'Maintenance at 22:00', level: 'warning',
  });
  for (const page of [alice, bob]) {
    await page.locator('.banner[data-id="maintenance"][data-level="warning"]', { hasText: 'Maintenance at 22:00' })
      .waitFor({ timeout: 5_000 });
  }
  const loaded = alice.alertLoads;
  assert.ok(loaded >= 1, 'the board was loaded at start');
  const isLoad = (request) => new URL(request.url()).pathname === '/api/alerts' && request.method() === 'GET';
  const refetched = alice.waitForResponse((response) => isLoad(response.request()), { timeout: 5_000 });
  await api(demo.url, 'POST', '/api/alerts/invalidate', 'admin-token');
  await refetched;
  assert.equal(alice.alertLoads, loaded + 1, 'one refetch after the invalidation');
  // Refetched, not emptied: the banner is still there.
  assert.equal(await alice.locator('.banner[data-id="maintenance"]').count(), 1);
  await api(demo.url, 'DELETE', '/api/alerts/maintenance', 'admin-token');
  await alice.locator('.banner[data-id="maintenance"]').waitFor({ state: 'detached', timeout: 5_000 });
  await bob.locator('.banner[data-id="maintenance"]').waitFor({ state: 'detached', timeout: 5_000 });
});

test('a revoked credential: the client asks for a token again, resumes, and loses nothing', async () => {
  await notify([3], 'before');
  await bob.locator('#notifications li', { hasText: 'before' }).waitFor({ timeout: 5_000 });
  const streams = bob.streams.length;
  const revoked = await api(demo.url, 'POST', '/api/sse/users/3/revoke', 'admin-token');
  assert.equal(revoked.revoked, 1);
  await notify([3], 'during');
  await bob.locator('#notifications li', { hasText: 'during' }).waitFor({ timeout: 10_000 });
  await notify([3], 'after');
  await bob.locator('#notifications li', { hasText: 'after' }).waitFor({ timeout: 5_000 });
  assert.equal(bob.streams.length, streams + 1);
  const again = bob.streams.at(-1);
  assert.equal(again.headers().authorization, 'Bearer bob-token');
  assert.ok(again.headers()['last-event-id'], 'the reconnect resumes from the last event id');
  for (const title of ['before', 'during', 'after']) {
    assert.equal(await bob.locator('#notifications li', { hasText: title }).count(), 1, title);
  }
});

test('an admin bans a user from the panel: that client stops, and says why', async () => {
  const admin = await appAs('admin-token');
  const bobsRow = admin.locator('#connections tbody tr', { has: admin.locator('td:nth-child(2)', { hasText: /^3$/ }) });
  await bobsRow.first().waitFor({ timeout: 10_000 });
  await bobsRow.first().getByRole('button', { name: 'Ban 10 min' }).click();
  await bob.waitForSelector('#status[data-status="error"][data-reason="banned"]', { timeout: 10_000 });
  assert.equal(await bob.locator('#status').textContent(), 'error (banned)');
  await admin.locator('#admin-note', { hasText: 'user 3 banned for 10 min' }).waitFor({ timeout: 5_000 });
  await bob.screenshot({ path: artifact('react-2-banned-bob.png') });
  assert.equal(await api(demo.url, 'DELETE', '/api/sse/users/3/ban', 'admin-token'), null);
  await admin.context().close();
});
