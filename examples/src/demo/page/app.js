// The demo page: a small real application on sse-js, without a bundler.
import { SSEClient } from '/sse-js/index.js';

const $ = (selector) => document.querySelector(selector);
const state = { client: null, me: null, alerts: new Map(), points: [], typing: new Map(), online: new Map() };

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw Object.assign(new Error(json?.message ?? response.statusText), { body: json, status: response.status });
  return json;
}

// --- connection -------------------------------------------------------------------------

function connect() {
  state.client?.close();
  const client = new SSEClient('/api/sse/stream?presence=true', { reconnectDelay: 500, reconnectAttempts: 10 });
  state.client = client;
  client.onStateChange((s) => {
    $('#status').textContent = s.error?.reason === 'banned' ? `${s.status} (banned)` : s.status;
    $('#status').dataset.status = s.status;
    $('#status').dataset.reason = s.error?.reason ?? '';
    if (s.status === 'connected') loadOnline();
  });
  client.addEventListener('toast', showToast);
  client.addEventListener('alert', updateAlert);
  // The banner board publishes on alerts as `update`; system broadcasts show as banners too.
  client.addEventListener('update', (data, envelope) => { if (envelope.channel === 'alerts') updateAlert(data, envelope); });
  client.addEventListener('broadcast', (data, envelope) => { if (envelope.channel === 'system') updateAlert(data, envelope); });
  client.addEventListener('notification', addNotification);
  client.addEventListener('data', (data) => { if (data?.type === 'metrics') addPoint(data); });
  client.addEventListener('chat-message', addChatMessage);
  client.addEventListener('typing', showTyping);
  client.addEventListener('presence-join', (data) => { state.online.set(String(data.userId), 1); renderOnline(); });
  client.addEventListener('presence-leave', (data) => { state.online.delete(String(data.userId)); renderOnline(); });
  client.addEventListener('refresh', (data) => {
    if (data?.type === 'cache-invalidation' && data.channel === 'alerts') loadAlerts();
  });
  client.addEventListener('history-gap', () => {
    $('#gap-notice').hidden = false;
    setTimeout(() => { $('#gap-notice').hidden = true; }, 5000);
  });
}

$('#reconnect').addEventListener('click', () => state.client?.reconnect());

// --- toasts -----------------------------------------------------------------------------

function showToast(data) {
  const toast = document.createElement('div');
  toast.className = 'toast';
  toast.dataset.type = data.type ?? 'info';
  const text = document.createElement('span');
  text.textContent = data.message ?? JSON.stringify(data);
  toast.append(text);
  const dismiss = () => toast.remove();
  if (data.dismissible !== false) {
    const close = document.createElement('button');
    close.type = 'button';
    close.textContent = '×';
    close.setAttribute('aria-label', 'dismiss');
    close.addEventListener('click', dismiss);
    toast.append(close);
  }
  $('#toasts').append(toast);
  setTimeout(dismiss, Number(data.duration) > 0 ? Number(data.duration) : 5000);
}

// --- banner alerts (the brief's useSSEAlerts pattern) ------------------------------------

function updateAlert(data, envelope) {
  const id = data?.id ?? envelope.id;
  if (data?.dismissed) state.alerts.delete(id);
  else state.alerts.set(id, { id, message: data?.message ?? data?.title ?? '', level: data?.level ?? 'info' });
  renderAlerts();
}

/** The banner board, refetched when the server says the banners are stale. */
async function loadAlerts() {
  const board = await api('GET', '/api/alerts').catch(() => []);
  state.alerts.clear();
  for (const banner of board) updateAlert(banner, { id: banner.id });
}

function renderAlerts() {
  const root = $('#alerts');
  root.replaceChildren(...[...state.alerts.values()].map((alert) => {
    const div = document.createElement('div');
    div.className = 'alert';
    div.dataset.id = alert.id;
    div.dataset.level = alert.level;
    div.textContent = alert.message;
    return div;
  }));
}

// --- notifications ----------------------------------------------------------------------

function addNotification(data) {
  const list = $('#notifications');
  list.querySelector('.empty')?.remove();
  const item = document.createElement('li');
  item.textContent = [data?.title, data?.message].filter(Boolean).join(': ') || JSON.stringify(data);
  list.prepend(item);
}

// --- dashboard --------------------------------------------------------------------------

function addPoint(data) {
  state.points.push({ c: data.connections, m: data.messagesPerMinute });
  if (state.points.length > 60) state.points.shift();
  $('#connections-now').textContent = data.connections;
  $('#messages-now').textContent = data.messagesPerMinute;
  const max = Math.max(1, ...state.points.flatMap((p) => [p.c, p.m]));
  const line = (key) => state.points
    .map((p, i) => `${(i / 59) * 300},${100 - (p[key] / max) * 95}`)
    .join(' ');
  $('#line-connections').setAttribute('points', line('c'));
  $('#line-messages').setAttribute('points', line('m'));
}

// --- chat -------------------------------------------------------------------------------

/** Who is in the chat: loaded once the stream is open, then kept up by presence events. */
async function loadOnline() {
  const here = await api('GET', '/api/sse/presence/chat').catch(() => null);
  state.online = new Map((here?.users ?? []).map((u) => [String(u.userId), u.connections]));
  renderOnline();
}

function renderOnline() {
  const ids = [...state.online.keys()].sort();
  $('#online').replaceChildren(...ids.map((id) => {
    const li = document.createElement('li');
    li.dataset.userId = id;
    li.textContent = `user ${id}`;
    return li;
  }));
}

function addChatMessage(data) {
  const item = document.createElement('li');
  item.textContent = `${data.name}: ${data.text}`;
  $('#chat-log').append(item);
  state.typing.delete(String(data.userId));
  renderTyping();
}

function showTyping(data) {
  const id = String(data.userId);
  clearTimeout(state.typing.get(id)?.timer);
  state.typing.set(id, { name: data.name, timer: setTimeout(() => { state.typing.delete(id); renderTyping(); }, 3000) });
  renderTyping();
}

function renderTyping() {
  const names = [...state.typing.values()].map((t) => t.name);
  $('#typing').textContent = names.length ? `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} typing…` : '';
}

let lastTyping = 0;
$('#chat-input').addEventListener('input', () => {
  if (!state.me || Date.now() - lastTyping < 1000) return;
  lastTyping = Date.now();
  api('POST', '/api/chat/typing').catch(() => {});
});

$('#chat-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $('#chat-input');
  if (!input.value.trim()) return;
  await api('POST', '/api/chat/messages', { text: input.value }).catch((e) => showToast({ message: e.message, type: 'error' }));
  input.value = '';
});

// --- admin ------------------------------------------------------------------------------

const list = (value) => value.split(',').map((s) => s.trim()).filter(Boolean);

$('#composer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const message = {
    channel: form.get('channel'),
    event: form.get('event'),
    target: form.get('target'),
    priority: Number(form.get('priority')),
    persistent: form.get('persistent') === 'on',
  };
  for (const key of ['targetUsers', 'targetRoles', 'targetPermissions', 'excludeUsers']) {
    const values = list(form.get(key));
    if (values.length) message[key] = values;
  }
  if (form.get('ttl')) message.ttl = Number(form.get('ttl'));
  try {
    message.data = JSON.parse(form.get('data') || 'null');
    const report = await api('POST', '/api/sse/publish', message);
    $('#send-report').textContent = JSON.stringify(report, null, 2);
    $('#explain [name="message"]').value = report.cursor;
  } catch (e) {
    $('#send-report').textContent = JSON.stringify(e.body ?? { error: 'invalid_json', message: e.message }, null, 2);
  }
});

$('#explain').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const query = new URLSearchParams({ message: form.get('message').trim(), userId: form.get('userId').trim() });
  const rows = await api('GET', `/api/sse/explain?${query}`)
    .then((why) => why.connections)
    .catch((e) => [{ connectionId: '', instance: '', outcome: 'error', detail: e.message }]);
  $('#explanation tbody').replaceChildren(...rows.map((line) => {
    const tr = document.createElement('tr');
    tr.dataset.outcome = line.outcome;
    for (const value of [line.connectionId, line.instance, line.outcome, line.detail]) {
      const td = document.createElement('td');
      td.textContent = value;
      tr.append(td);
    }
    return tr;
  }));
});

// --- live statistics (admin) -------------------------------------------------------------

const COLORS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b7791f', '#c53030'];
const DROPS = ['shed', 'expired', 'coalesced', 'clearedSlow', 'cleared'];
const series = { samples: [], previous: null };

/** Every instance's statistics: the cluster's when there is one, this instance's otherwise. */
function perInstance(stats) {
  if (stats.cluster) return stats.cluster.instances.map((i) => [i.instance, i.stats]);
  return [['this instance', stats]];
}

/** Polls the statistics and draws deliveries and drops per second and open streams. */
async function refreshStatistics() {
  if (!state.me?.roles.includes('admin')) return;
  const stats = await api('GET', '/api/sse/stats').catch(() => null);
  if (!stats) return;
  const now = Date.now();
  const current = new Map(perInstance(stats));
  const previous = series.previous;
  series.previous = { at: now, instances: current };
  if (!previous) return;
  const seconds = Math.max((now - previous.at) / 1000, 0.001);
  const sample = { deliveries: {}, drops: {}, streams: {} };
  for (const [instance, s] of current) {
    const before = previous.instances.get(instance) ?? s;
    sample.deliveries[instance] = Math.max(0, (s.delivered - before.delivered) / seconds);
    sample.streams[instance] = s.totalConnections;
    for (const reason of DROPS) {
      const dropped = reason === 'cleared' ? s.cleared - s.clearedSlow : s[reason];
      const dropped0 = reason === 'cleared' ? before.cleared - before.clearedSlow : before[reason];
      sample.drops[reason] = (sample.drops[reason] ?? 0) + Math.max(0, (dropped - dropped0) / seconds);
    }
  }
  series.samples.push(sample);
  if (series.samples.length > 60) series.samples.shift();
  const instances = [...current.keys()].sort();
  draw('#chart-deliveries', 'deliveries', instances);
  draw('#chart-drops', 'drops', DROPS);
  draw('#chart-streams', 'streams', instances);
  $('#statistics-legend').replaceChildren(...instances.map((instance, i) => {
    const li = document.createElement('li');
    li.style.color = COLORS[i % COLORS.length];
    li.dataset.instance = instance;
    li.textContent = `${instance}: ${sample.streams[instance]} streams, ${sample.deliveries[instance].toFixed(1)} deliveries/s`;
    return li;
  }));
}

function draw(chart, key, names) {
  const max = Math.max(1, ...series.samples.flatMap((s) => names.map((n) => s[key][n] ?? 0)));
  $(chart).replaceChildren(...names.map((name, i) => {
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', COLORS[i % COLORS.length]);
    line.setAttribute('stroke-width', '2');
    line.dataset.series = name;
    line.setAttribute('points', series.samples
      .map((s, x) => `${(x / 59) * 300},${100 - ((s[key][name] ?? 0) / max) * 95}`)
      .join(' '));
    const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
    title.textContent = name;
    line.append(title);
    return line;
  }));
}
setInterval(refreshStatistics, 2000);

async function refreshConnections() {
  if (!state.me?.roles.includes('admin')) return;
  const rows = await api('GET', '/api/sse/connections').catch(() => []);
  $('#connections tbody').replaceChildren(...rows.map((c) => {
    const tr = document.createElement('tr');
    tr.dataset.id = c.id;
    for (const value of [c.id, c.instance, c.userId ?? 'anonymous', c.channels.join(', '), c.queueLen, c.delivered]) {
      const td = document.createElement('td');
      td.textContent = value;
      tr.append(td);
    }
    const td = document.createElement('td');
    const action = (label, method, path) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = label;
      button.addEventListener('click', () => api(method, path).then(refreshConnections));
      td.append(button);
    };
    action('Disconnect', 'DELETE', `/api/sse/connections/${c.id}`);
    if (c.userId != null) {
      const user = encodeURIComponent(c.userId);
      action('Ban 10 min', 'DELETE', `/api/sse/users/${user}/connections?ban=600`);
      action('Revoke', 'POST', `/api/sse/users/${user}/revoke`);
    }
    tr.append(td);
    return tr;
  }));
}
setInterval(refreshConnections, 3000);

// --- sign-in ----------------------------------------------------------------------------

async function signIn(token) {
  state.me = token ? await api('POST', '/api/login', { token }) : null;
  if (!token) await api('POST', '/api/logout');
  $('#admin').hidden = !state.me?.roles.includes('admin');
  $('#chat-input').placeholder = state.me ? `Message as ${state.me.name}` : 'Say something (sign in first)';
  connect();
  loadAlerts();
  refreshConnections();
}

$('#user-select').addEventListener('change', (event) => signIn(event.target.value));

async function start() {
  const users = await api('GET', '/api/demo-users');
  for (const user of users) {
    const option = document.createElement('option');
    option.value = user.token;
    option.textContent = `${user.name} (${user.roles.join(', ') || 'no role'})`;
    $('#user-select').append(option);
  }
  const wanted = new URLSearchParams(location.search).get('as');
  const me = await api('GET', '/api/me').catch(() => null);
  const token = wanted ?? users.find((u) => String(u.userId) === String(me?.userId))?.token ?? '';
  $('#user-select').value = token;
  await signIn(token);
}

start();
