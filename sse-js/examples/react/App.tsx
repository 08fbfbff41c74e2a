import { type FormEvent, useCallback, useEffect, useState } from 'react';

import type { ChannelName, ConnectionInfo, SSEMessage } from '@universal-sse/client';
import {
  type AlertInvalidation,
  type SSEAlert,
  type UseSSEOptions,
  useSSE,
  useSSEAlerts,
  useSSEEvent,
} from '@universal-sse/client/react';

/** The signed-in user's token, from `?as=<token>`; kept in memory only. */
const token = new URLSearchParams(window.location.search).get('as');
const STREAM = '/api/sse/stream';
const CHANNELS: ChannelName[] = ['alerts', 'system', 'notifications', 'toasts'];

/**
 * One options object for every hook, so that they share one connection: the fetch transport
 * sends the token as `Authorization: Bearer`, asking for it again on every reconnect (a real
 * app would refresh it here).
 */
const OPTIONS: UseSSEOptions = {
  transport: 'fetch',
  token: () => token ?? '',
  channels: CHANNELS,
  enabled: token !== null,
};

interface Me {
  userId: string;
  name: string;
  roles: string[];
}

type Banner = { id: string; title?: string; message: string; level: string };

/** Calls the demo's API with the bearer token; the JSON answer, or an error with its message. */
async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = text === '' ? null : JSON.parse(text);
  if (!response.ok) throw new Error(json?.message ?? response.statusText);
  return json as T;
}

const loadBanners = (_reason?: AlertInvalidation) =>
  api<Banner[]>('GET', '/api/alerts') as Promise<ReadonlyArray<SSEAlert<Banner>>>;

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  useEffect(() => {
    if (token !== null) api<Me>('GET', '/api/me').then(setMe, () => setMe(null));
  }, []);
  return (
    <>
      <StatusBar me={me} />
      <BannerSystem />
      <main>
        <NotificationSystem />
        {me?.roles.includes('admin') ? <AdminPanel /> : null}
      </main>
    </>
  );
}

function StatusBar({ me }: { me: Me | null }) {
  const { connectionState } = useSSE(STREAM, OPTIONS);
  const reason = connectionState.error?.reason ?? '';
  return (
    <header>
      <strong>Universal SSE + React</strong>
      <span
        id="status"
        className="status"
        data-status={connectionState.status}
        data-reason={reason}
      >
        {connectionState.status}
        {reason === 'banned' ? ' (banned)' : ''}
      </span>
      <span id="me">{token === null ? 'add ?as=<token> to sign in' : (me?.name ?? '')}</span>
    </header>
  );
}

/** The brief's NotificationSystem: toasts and notifications, handled without re-rendering on
 * every event of the connection (only when one of these arrives). */
function NotificationSystem() {
  const [toasts, setToasts] = useState<string[]>([]);
  const [notes, setNotes] = useState<string[]>([]);
  useSSEEvent(
    'toast',
    (data: { message?: string }) => setToasts((list) => [...list, String(data?.message ?? '')]),
    OPTIONS,
  );
  useSSEEvent(
    'notification',
    (data: { title?: string; message?: string }) =>
      setNotes((list) => [[data?.title, data?.message].filter(Boolean).join(': '), ...list]),
    OPTIONS,
  );
  return (
    <section>
      <h2>Toasts</h2>
      <ul id="toasts">
        {toasts.map((text, i) => (
          <li key={i} className="toast">
            {text}
          </li>
        ))}
      </ul>
      <h2>Notifications</h2>
      <ul id="notifications">
        {notes.map((text, i) => (
          <li key={i}>{text}</li>
        ))}
      </ul>
    </section>
  );
}

/** The brief's BannerSystem: `useSSEAlerts`, refetching the board after an invalidation. */
function BannerSystem() {
  const { alerts, setAlerts } = useSSEAlerts<Banner>(STREAM, { ...OPTIONS, load: loadBanners });
  useEffect(() => {
    if (token !== null) loadBanners().then(setAlerts, () => {});
  }, [setAlerts]);
  return (
    <div id="banners" className="banners">
      {alerts.map((alert) => (
        <div key={alert.id} className="banner" data-id={alert.id} data-level={alert.level}>
          {alert.title ? <strong>{alert.title}: </strong> : null}
          {alert.message}
        </div>
      ))}
    </div>
  );
}

function AdminPanel() {
  const [rows, setRows] = useState<ConnectionInfo[]>([]);
  const [note, setNote] = useState('');
  const refresh = useCallback(() => {
    api<ConnectionInfo[]>('GET', '/api/sse/connections').then(setRows, (err: Error) => setNote(err.message));
  }, []);
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, 2000);
    return () => clearInterval(timer);
  }, [refresh]);
  const act = (promise: Promise<unknown>, done: string) =>
    promise.then(
      () => {
        setNote(done);
        refresh();
      },
      (err: Error) => setNote(err.message),
    );
  const onToast = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    act(
      api('POST', '/api/sse/publish', {
        channel: 'toasts',
        event: 'toast',
        data: { message: form.get('message'), type: 'info' },
        target: 'user-specific',
        targetUsers: [String(form.get('user'))],
      } satisfies SSEMessage),
      'toast sent',
    );
  };
  const onBanner = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    act(
      api('PUT', `/api/alerts/${encodeURIComponent(String(form.get('id')))}`, {
        message: form.get('message'),
        level: form.get('level'),
      }),
      'banner set',
    );
  };
  return (
    <section id="admin">
      <h2>Admin</h2>
      <form id="toast-form" onSubmit={onToast}>
        <input name="user" placeholder="user id" size={6} required />
        <input name="message" placeholder="toast" required />
        <button type="submit">Send toast</button>
      </form>
      <form id="banner-form" onSubmit={onBanner}>
        <input name="id" placeholder="banner id" size={8} required />
        <input name="message" placeholder="banner text" required />
        <select name="level" defaultValue="info">
          <option>info</option>
          <option>warning</option>
          <option>critical</option>
        </select>
        <button type="submit">Set banner</button>
        <button type="button" onClick={() => act(api('POST', '/api/alerts/invalidate'), 'banners invalidated')}>
          Invalidate banners
        </button>
      </form>
      <p id="admin-note">{note}</p>
      <table id="connections">
        <thead>
          <tr>
            <th>Connection</th>
            <th>User</th>
            <th>Channels</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id}>
              <td>{row.id}</td>
              <td>{row.userId ?? 'anonymous'}</td>
              <td>{row.channels.join(', ')}</td>
              <td>
                {row.userId ? (
                  <button
                    type="button"
                    onClick={() =>
                      act(
                        api('DELETE', `/api/sse/users/${encodeURIComponent(row.userId ?? '')}/connections?ban=600`),
                        `user ${row.userId} banned for 10 min`,
                      )
                    }
                  >
                    Ban 10 min
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
