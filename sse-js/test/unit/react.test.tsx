import { act, cleanup, render, screen } from '@testing-library/react';
import { StrictMode, useEffect, useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { useSSE, useSSEAlerts, useSSEEvent } from '../../src/react.js';
import type { UseSSEOptions, UseSSEResult } from '../../src/react.js';
import type { AlertInvalidation, SSEAlert } from '../../src/react.js';
import { FakeEventSource, connectedEnvelope, envelope } from './fake-event-source.js';

const URL = '/api/sse/stream';
const OPTIONS: UseSSEOptions = {
  channels: ['notifications', 'toasts'],
  EventSource: FakeEventSource,
  probe: false,
};

/** Lets the registry's deferred close run. */
async function flushMicrotasks(): Promise<void> {
  await act(async () => {
    await Promise.resolve();
  });
}

function Status({ options = OPTIONS, name = 'status' }: { options?: UseSSEOptions; name?: string }) {
  const { connectionState, isConnected } = useSSE(URL, { ...options });
  return (
    <div data-testid={name}>
      {connectionState.status}
      {isConnected ? ' (live)' : ''}
      {connectionState.connectionId ? ` ${connectionState.connectionId}` : ''}
    </div>
  );
}

/** The brief's component: shows the last toast it received. */
function Toasts({ name, onToast }: { name: string; onToast?: (data: unknown) => void }) {
  const { addEventListener, removeEventListener } = useSSE(URL, {
    channels: ['notifications', 'toasts'],
    autoConnect: true,
    EventSource: FakeEventSource,
    probe: false,
  });
  const [message, setMessage] = useState('');
  useEffect(() => {
    const handleToast = (data: { message: string }) => {
      setMessage(data.message);
      onToast?.(data);
    };
    addEventListener('toast', handleToast);
    return () => removeEventListener('toast', handleToast);
  }, [addEventListener, removeEventListener, onToast]);
  return <div data-testid={name}>{message}</div>;
}

beforeEach(() => {
  FakeEventSource.reset();
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
});

afterEach(async () => {
  cleanup();
  await flushMicrotasks();
  vi.useRealTimers();
});

describe('useSSE', () => {
  it('re-renders on every state change', () => {
    render(<Status />);
    expect(screen.getByTestId('status').textContent).toBe('connecting');
    expect(FakeEventSource.urls).toEqual(['/api/sse/stream?channels=notifications,toasts']);
    act(() => FakeEventSource.latest.open());
    expect(screen.getByTestId('status').textContent).toBe('connected (live)');
    act(() => FakeEventSource.latest.emit('connected', connectedEnvelope({ connectionId: 'conn-7' })));
    expect(screen.getByTestId('status').textContent).toBe('connected (live) conn-7');
    act(() => FakeEventSource.latest.fail());
    expect(screen.getByTestId('status').textContent).toBe('reconnecting');
  });

  it('shares one connection between components and closes it on the last unmount', async () => {
    const first = render(<Status name="a" />);
    const second = render(<Status name="b" />);
    expect(FakeEventSource.instances).toHaveLength(1);
    act(() => FakeEventSource.latest.open());
    expect(screen.getByTestId('a').textContent).toBe('connected (live)');
    expect(screen.getByTestId('b').textContent).toBe('connected (live)');

    first.unmount();
    await flushMicrotasks();
    expect(FakeEventSource.latest.closed).toBe(false);

    second.unmount();
    expect(FakeEventSource.latest.closed).toBe(false);
    await flushMicrotasks();
    expect(FakeEventSource.latest.closed).toBe(true);

    render(<Status name="c" />);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(FakeEventSource.latest.closed).toBe(false);
  });

  it('opens one connection per URL, channels and token', () => {
    render(<Status name="a" />);
    render(<Status name="b" options={{ ...OPTIONS, channels: ['alerts'] }} />);
    render(<Status name="c" options={{ ...OPTIONS, token: 't' }} />);
    render(<Status name="d" options={{ ...OPTIONS, reconnectAttempts: 2 }} />);
    expect(FakeEventSource.urls).toEqual([
      '/api/sse/stream?channels=notifications,toasts',
      '/api/sse/stream?channels=alerts',
      '/api/sse/stream?channels=notifications,toasts&token=t',
    ]);
  });

  it('keeps one connection under StrictMode', async () => {
    render(
      <StrictMode>
        <Status />
      </StrictMode>,
    );
    await flushMicrotasks();
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(FakeEventSource.latest.closed).toBe(false);
  });

  it('keeps its functions across renders', () => {
    const seen: UseSSEResult[] = [];
    function Probe() {
      const result = useSSE(URL, { ...OPTIONS });
      seen.push(result);
      return null;
    }
    render(<Probe />);
    act(() => FakeEventSource.latest.open());
    act(() => FakeEventSource.latest.emit('connected', connectedEnvelope()));
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const [firstResult] = seen;
    for (const result of seen) {
      expect(result.addEventListener).toBe(firstResult?.addEventListener);
      expect(result.removeEventListener).toBe(firstResult?.removeEventListener);
      expect(result.reconnect).toBe(firstResult?.reconnect);
    }
    expect(seen.at(-1)?.connectionState.status).toBe('connected');
  });

  it('delivers events to every component and stops at unmount', () => {
    const a = vi.fn();
    const b = vi.fn();
    const first = render(<Toasts name="a" onToast={a} />);
    render(<Toasts name="b" onToast={b} />);
    const source = FakeEventSource.latest;
    act(() => source.open());
    act(() => source.emit('toast', envelope('toasts', 'toast', { message: 'one' }, 't-1')));
    expect(screen.getByTestId('a').textContent).toBe('one');
    expect(screen.getByTestId('b').textContent).toBe('one');
    first.unmount();
    act(() => source.emit('toast', envelope('toasts', 'toast', { message: 'two' }, 't-2')));
    expect(a.mock.calls).toEqual([[{ message: 'one' }]]);
    expect(b.mock.calls).toEqual([[{ message: 'one' }], [{ message: 'two' }]]);
  });

  it('keeps two components apart when they register the same function', () => {
    const shared = vi.fn();
    function Listener({ on }: { on: boolean }) {
      const { addEventListener, removeEventListener } = useSSE(URL, { ...OPTIONS });
      useEffect(() => {
        if (!on) {
          return undefined;
        }
        addEventListener('update', shared);
        return () => removeEventListener('update', shared);
      }, [on, addEventListener, removeEventListener]);
      return null;
    }
    const first = render(<Listener on />);
    render(<Listener on />);
    act(() => FakeEventSource.latest.open());
    act(() => FakeEventSource.latest.emit('update', envelope('live-updates', 'update', 1)));
    expect(shared).toHaveBeenCalledTimes(2);
    first.rerender(<Listener on={false} />);
    act(() => FakeEventSource.latest.emit('update', envelope('live-updates', 'update', 2)));
    expect(shared.mock.calls.map(([data]) => data)).toEqual([1, 1, 2]);
  });

  it('accepts listeners registered before its own effect ran', () => {
    const handler = vi.fn();
    function Child({ add }: { add: UseSSEResult['addEventListener'] }) {
      useEffect(() => {
        add('notification', handler);
      }, [add]);
      return null;
    }
    function Parent() {
      const { addEventListener } = useSSE(URL, { ...OPTIONS });
      return <Child add={addEventListener} />;
    }
    render(<Parent />);
    act(() => FakeEventSource.latest.open());
    const note = envelope('notifications', 'notification', { title: 'Hi' });
    act(() => FakeEventSource.latest.emit('notification', note));
    expect(handler).toHaveBeenCalledWith({ title: 'Hi' }, note);
  });

  it('reports the last event, not heartbeats', () => {
    function Last() {
      const { lastEvent } = useSSE(URL, { ...OPTIONS });
      return <div data-testid="last">{lastEvent ? `${lastEvent.event}:${lastEvent.id}` : 'none'}</div>;
    }
    render(<Last />);
    expect(screen.getByTestId('last').textContent).toBe('none');
    act(() => FakeEventSource.latest.open());
    act(() => FakeEventSource.latest.emit('toast', envelope('toasts', 'toast', {}, 'm-5')));
    act(() => FakeEventSource.latest.emit('heartbeat', { timestamp: 1 }));
    expect(screen.getByTestId('last').textContent).toBe('toast:m-5');
  });

  it('reconnects by hand from the error state', () => {
    function Reconnect() {
      const { connectionState, reconnect } = useSSE(URL, { ...OPTIONS, reconnectAttempts: 0 });
      return (
        <button type="button" onClick={reconnect}>
          {connectionState.status}
        </button>
      );
    }
    render(<Reconnect />);
    act(() => FakeEventSource.latest.fail());
    expect(screen.getByRole('button').textContent).toBe('error');
    act(() => screen.getByRole('button').click());
    expect(screen.getByRole('button').textContent).toBe('connecting');
    expect(FakeEventSource.instances).toHaveLength(2);
  });

  it('waits for reconnect() when autoConnect is false', () => {
    let reconnect: (() => void) | undefined;
    function Manual() {
      const result = useSSE(URL, { ...OPTIONS, autoConnect: false });
      reconnect = result.reconnect;
      return <div data-testid="status">{result.connectionState.status}</div>;
    }
    render(<Manual />);
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(screen.getByTestId('status').textContent).toBe('closed');
    act(() => reconnect?.());
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(screen.getByTestId('status').textContent).toBe('connecting');
  });
});

describe('useSSEAlerts', () => {
  type Alert = { id: string | number; message?: string; dismissed?: boolean };

  function Banners({
    name = 'banners',
    onInvalidate,
  }: {
    name?: string;
    onInvalidate?: (reason: AlertInvalidation) => void;
  }) {
    const { alerts } = useSSEAlerts<Alert>(undefined, {
      EventSource: FakeEventSource,
    probe: false,
      ...(onInvalidate ? { onInvalidate } : {}),
    });
    return (
      <ul data-testid={name}>
        {alerts.map((alert) => (
          <li key={alert.id}>{`${alert.id}=${alert.message ?? ''}`}</li>
        ))}
      </ul>
    );
  }

  function items(name = 'banners'): string[] {
    return [...screen.getByTestId(name).querySelectorAll('li')].map((li) => li.textContent ?? '');
  }

  function alert(data: unknown, id = 'msg', channel = 'alerts'): void {
    act(() => FakeEventSource.latest.emit('alert', envelope(channel, 'alert', data, id)));
  }

  it('adds, updates and dismisses alerts from the alerts channel', () => {
    render(<Banners />);
    expect(FakeEventSource.urls).toEqual(['/api/sse/stream?channels=alerts,system']);
    act(() => FakeEventSource.latest.open());
    alert({ id: 1, message: 'Maintenance at 10:00' });
    alert({ message: 'No id of its own' }, 'msg-2');
    alert({ id: 3, message: 'Security notice' });
    expect(items()).toEqual(['1=Maintenance at 10:00', 'msg-2=No id of its own', '3=Security notice']);
    alert({ id: 1, message: 'Maintenance at 11:00' });
    expect(items()).toEqual(['1=Maintenance at 11:00', 'msg-2=No id of its own', '3=Security notice']);
    alert({ id: '3', dismissed: true });
    alert({ id: 99, dismissed: true });
    expect(items()).toEqual(['1=Maintenance at 11:00', 'msg-2=No id of its own']);
    alert({ id: 4, message: 'elsewhere' }, 'msg-4', 'admin-actions');
    expect(items()).toEqual(['1=Maintenance at 11:00', 'msg-2=No id of its own']);
  });

  it('clears on a cache invalidation of alerts and asks the app to refetch', () => {
    const onInvalidate = vi.fn();
    render(<Banners onInvalidate={onInvalidate} />);
    act(() => FakeEventSource.latest.open());
    alert({ id: 1, message: 'a' });
    const refresh = (data: unknown) =>
      act(() => FakeEventSource.latest.emit('refresh', envelope('alerts', 'refresh', data)));
    refresh({ type: 'cache-invalidation', channel: 'notifications' });
    expect(items()).toEqual(['1=a']);
    refresh({ type: 'cache-invalidation', channel: 'alerts' });
    expect(items()).toEqual([]);
    expect(onInvalidate.mock.calls).toEqual([['cache-invalidation']]);
  });

  it('clears on a history gap that covers alerts', () => {
    const onInvalidate = vi.fn();
    render(<Banners onInvalidate={onInvalidate} />);
    act(() => FakeEventSource.latest.open());
    alert({ id: 1, message: 'a' });
    const gap = (channels: string[]) =>
      act(() =>
        FakeEventSource.latest.emit(
          'refresh',
          envelope('system', 'refresh', { reason: 'history-gap', lastEventId: '1-0-0', channels }),
        ),
      );
    gap(['chat']);
    expect(items()).toEqual(['1=a']);
    gap(['alerts']);
    expect(items()).toEqual([]);
    expect(onInvalidate.mock.calls).toEqual([['history-gap']]);
  });

  it('shares one list between the components of a connection', () => {
    render(<Banners name="top" />);
    act(() => FakeEventSource.latest.open());
    alert({ id: 1, message: 'first' });
    render(<Banners name="bottom" />);
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(items('bottom')).toEqual(['1=first']);
    alert({ id: 2, message: 'second' });
    expect(items('top')).toEqual(['1=first', '2=second']);
    expect(items('bottom')).toEqual(['1=first', '2=second']);
  });

  it('starts from initial alerts and takes a refetched list', () => {
    let setAlerts: ((list: Alert[]) => void) | undefined;
    function Refetching() {
      const result = useSSEAlerts<Alert>('/custom/stream', {
        EventSource: FakeEventSource,
    probe: false,
        initialAlerts: [{ id: 'a', message: 'from the page' }],
      });
      setAlerts = result.setAlerts;
      return (
        <ul data-testid="banners">
          {result.alerts.map((a) => (
            <li key={a.id}>{`${a.id}=${a.message ?? ''}`}</li>
          ))}
        </ul>
      );
    }
    render(<Refetching />);
    expect(FakeEventSource.urls).toEqual(['/custom/stream?channels=alerts,system']);
    expect(items()).toEqual(['a=from the page']);
    act(() => FakeEventSource.latest.open());
    alert({ id: 'b', message: 'live' });
    expect(items()).toEqual(['a=from the page', 'b=live']);
    act(() => setAlerts?.([{ id: 'c', message: 'refetched' }]));
    expect(items()).toEqual(['c=refetched']);
  });
});

describe('switching a connection off', () => {
  it('holds no connection with a null URL or enabled: false, and connects when enabled', async () => {
    function Maybe({ url, enabled }: { url: string | null; enabled: boolean }) {
      const { connectionState } = useSSE(url, { ...OPTIONS, enabled });
      return <div data-testid="state">{connectionState.status}</div>;
    }
    const { rerender } = render(<Maybe url={null} enabled />);
    expect(screen.getByTestId('state').textContent).toBe('closed');
    rerender(<Maybe url={URL} enabled={false} />);
    expect(screen.getByTestId('state').textContent).toBe('closed');
    expect(FakeEventSource.instances).toHaveLength(0);
    rerender(<Maybe url={URL} enabled />);
    expect(FakeEventSource.instances).toHaveLength(1);
    act(() => FakeEventSource.latest.open());
    expect(screen.getByTestId('state').textContent).toBe('connected');
    rerender(<Maybe url={URL} enabled={false} />);
    expect(screen.getByTestId('state').textContent).toBe('closed');
    await flushMicrotasks();
    expect(FakeEventSource.latest.closed).toBe(true);
  });
});

describe('useSSEEvent', () => {
  it('calls the latest handler for every event and never re-renders the component', async () => {
    let renders = 0;
    const seen: string[] = [];
    function Listener({ tag }: { tag: string }) {
      renders += 1;
      useSSEEvent('toast', (data: { message: string }) => seen.push(`${tag}:${data.message}`), OPTIONS);
      return null;
    }
    const { rerender, unmount } = render(<Listener tag="a" />);
    expect(renders).toBe(1);
    act(() => FakeEventSource.latest.open());
    act(() => FakeEventSource.latest.emit('connected', connectedEnvelope()));
    act(() => FakeEventSource.latest.emit('toast', envelope('toasts', 'toast', { message: 'one' }), { id: '1-1-0' }));
    act(() => FakeEventSource.latest.emit('heartbeat', { timestamp: 1 }));
    expect(renders).toBe(1);
    rerender(<Listener tag="b" />);
    act(() => FakeEventSource.latest.emit('toast', envelope('toasts', 'toast', { message: 'two' }), { id: '1-2-0' }));
    expect(seen).toEqual(['a:one', 'b:two']);
    expect(renders).toBe(2);
    expect(FakeEventSource.instances).toHaveLength(1);
    unmount();
    await flushMicrotasks();
    expect(FakeEventSource.latest.closed).toBe(true);
  });

  it('shares the connection of useSSE with the same options', () => {
    const seen: unknown[] = [];
    function Both() {
      useSSEEvent('toast', (data) => seen.push(data), OPTIONS);
      useSSE(URL, OPTIONS);
      return null;
    }
    render(<Both />);
    expect(FakeEventSource.instances).toHaveLength(1);
    act(() => FakeEventSource.latest.open());
    act(() => FakeEventSource.latest.emit('toast', envelope('toasts', 'toast', 'hi')));
    expect(seen).toEqual(['hi']);
  });
});

describe('useSSEAlerts, as the brief sends banners', () => {
  type Alert = { id: string | number; title?: string; message?: string };

  function Banners({ load }: { load?: (reason: AlertInvalidation) => Promise<ReadonlyArray<SSEAlert<Alert>>> }) {
    const { alerts } = useSSEAlerts<Alert>(undefined, {
      EventSource: FakeEventSource,
      probe: false,
      ...(load ? { load } : {}),
    });
    return (
      <ul data-testid="banners">
        {alerts.map((alert) => (
          <li key={alert.id}>{`${alert.id}=${alert.title ?? ''}${alert.message ?? ''}`}</li>
        ))}
      </ul>
    );
  }

  function items(): string[] {
    return [...screen.getByTestId('banners').querySelectorAll('li')].map((li) => li.textContent ?? '');
  }

  it("shows update events on alerts and broadcast events on system", () => {
    render(<Banners />);
    act(() => FakeEventSource.latest.open());
    act(() =>
      FakeEventSource.latest.emit(
        'update',
        envelope('alerts', 'update', { title: 'System Update: ', message: 'New features' }, 'm-1'),
      ),
    );
    act(() =>
      FakeEventSource.latest.emit(
        'broadcast',
        envelope('system', 'broadcast', { message: 'Maintenance in 5 minutes' }, 'm-2'),
      ),
    );
    act(() => FakeEventSource.latest.emit('update', envelope('notifications', 'update', { message: 'not a banner' }, 'm-3')));
    expect(items()).toEqual(['m-1=System Update: New features', 'm-2=Maintenance in 5 minutes']);
  });

  it('refetches with the loader after an invalidation instead of emptying the list; the latest load wins', async () => {
    const loads: Array<(list: SSEAlert<Alert>[]) => void> = [];
    const load = vi.fn(
      () => new Promise<SSEAlert<Alert>[]>((resolve) => {
        loads.push(resolve);
      }),
    );
    render(<Banners load={load} />);
    act(() => FakeEventSource.latest.open());
    act(() => FakeEventSource.latest.emit('alert', envelope('alerts', 'alert', { id: 1, message: 'old' })));
    const invalidate = () =>
      act(() =>
        FakeEventSource.latest.emit(
          'refresh',
          envelope('alerts', 'refresh', { type: 'cache-invalidation', channel: 'alerts' }),
        ),
      );
    invalidate();
    expect(load.mock.calls).toEqual([['cache-invalidation']]);
    expect(items()).toEqual(['1=old']);
    invalidate();
    await act(async () => {
      loads[1]?.([{ id: 2, message: 'fresh' }]);
      await Promise.resolve();
    });
    expect(items()).toEqual(['2=fresh']);
    await act(async () => {
      loads[0]?.([{ id: 3, message: 'stale' }]);
      await Promise.resolve();
    });
    expect(items()).toEqual(['2=fresh']);
  });
});

describe('the shared connection key', () => {
  it('tells token functions apart by identity, and shares one between components', () => {
    const aliceToken = () => 'alice';
    const bobToken = () => 'bob';
    function Stream({ token }: { token: () => string }) {
      useSSE(URL, { ...OPTIONS, token });
      return null;
    }
    render(
      <>
        <Stream token={aliceToken} />
        <Stream token={aliceToken} />
        <Stream token={bobToken} />
      </>,
    );
    expect(FakeEventSource.urls).toEqual([
      '/api/sse/stream?channels=notifications,toasts&token=alice',
      '/api/sse/stream?channels=notifications,toasts&token=bob',
    ]);
  });
});
