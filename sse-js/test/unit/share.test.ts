import { BroadcastChannel as NodeBroadcastChannel } from 'node:worker_threads';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { SSEClient } from '../../src/index.js';
import type { BroadcastChannelConstructor, LockManagerLike } from '../../src/share.js';
import { FakeEventSource, connectedEnvelope, envelope } from './fake-event-source.js';

/** Web Locks for one process: exclusive locks granted in request order. */
class FakeLocks implements LockManagerLike {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Array<() => void>>();

  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.held.add(name);
        callback().then(
          (value) => {
            this.held.delete(name);
            resolve(value);
            this.next(name);
          },
          (err: unknown) => {
            this.held.delete(name);
            reject(err);
            this.next(name);
          },
        );
      };
      const queue = this.queues.get(name) ?? [];
      this.queues.set(name, queue);
      queue.push(grant);
      options.signal?.addEventListener('abort', () => {
        const at = queue.indexOf(grant);
        if (at !== -1) {
          queue.splice(at, 1);
          reject(new DOMException('aborted', 'AbortError'));
        }
      });
      if (!this.held.has(name)) {
        this.next(name);
      }
    });
  }

  private next(name: string): void {
    const grant = this.queues.get(name)?.shift();
    grant?.();
  }
}

/** Waits until `predicate` holds, through real event-loop turns (BroadcastChannel delivers there). */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (predicate()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting until ${what}`);
}

let locks: FakeLocks;
let clients: SSEClient[];

function tab(): { client: SSEClient; seen: string[] } {
  const seen: string[] = [];
  const client = new SSEClient('/api/sse/stream', {
    channels: ['notifications'],
    EventSource: FakeEventSource,
    probe: false,
    share: true,
    locks,
    BroadcastChannel: NodeBroadcastChannel as unknown as BroadcastChannelConstructor,
  });
  client.addEventListener('notification', (data: { n: number }) => seen.push(`n${data.n}`));
  clients.push(client);
  return { client, seen };
}

const send = (n: number) =>
  FakeEventSource.latest.emit('notification', envelope('notifications', 'notification', { n }), { id: `1-${n}-0` });

beforeEach(() => {
  vi.useRealTimers();
  FakeEventSource.reset();
  locks = new FakeLocks();
  clients = [];
});

afterEach(() => {
  for (const client of clients) client.close();
  vi.unstubAllGlobals();
});

describe('one connection per browser', () => {
  it('gives three tabs one stream, every event once each, and moves it when the leader leaves', async () => {
    const [a, b, c] = [tab(), tab(), tab()];
    await until(() => FakeEventSource.instances.length === 1, 'the leader opens the stream');
    expect([a.client.sharing, b.client.sharing, c.client.sharing]).toEqual(['leader', 'follower', 'follower']);
    FakeEventSource.latest.open();
    FakeEventSource.latest.emit('connected', connectedEnvelope());
    send(1);
    send(2);
    await until(() => c.seen.length === 2 && b.seen.length === 2, 'the followers get both');
    await until(() => c.client.connectionState.status === 'connected', 'the followers mirror the state');
    expect(c.client.connectionState.connectionId).toBe('conn-1');
    expect(c.client.connectionState.lastEventId).toBe('1-2-0');
    expect([a.seen, b.seen, c.seen]).toEqual([['n1', 'n2'], ['n1', 'n2'], ['n1', 'n2']]);

    // The leader's tab closes: the next tab takes the stream over, resuming after n2.
    a.client.close();
    await until(() => FakeEventSource.instances.length === 2, 'a new leader opens the stream');
    expect(FakeEventSource.instances[0]?.closed).toBe(true);
    expect(b.client.sharing).toBe('leader');
    expect(FakeEventSource.latest.url).toBe('/api/sse/stream?channels=notifications&lastEventId=1-2-0');
    FakeEventSource.latest.open();
    send(3);
    await until(() => c.seen.length === 3, 'the remaining follower gets n3');
    expect([b.seen, c.seen]).toEqual([['n1', 'n2', 'n3'], ['n1', 'n2', 'n3']]);
    expect(FakeEventSource.instances).toHaveLength(2);
  });

  it("delivers a follower's own event types through the leader", async () => {
    const leader = tab();
    await until(() => FakeEventSource.instances.length === 1, 'the leader opens the stream');
    const follower = tab();
    const custom: unknown[] = [];
    follower.client.addEventListener('order-shipped', (data) => custom.push(data));
    await until(() => FakeEventSource.latest.listenedTypes().includes('order-shipped'), 'the leader listens for it');
    FakeEventSource.latest.open();
    FakeEventSource.latest.emit('order-shipped', envelope('notifications', 'order-shipped', { order: 7 }));
    await until(() => custom.length === 1, 'the follower gets it');
    expect(custom).toEqual([{ order: 7 }]);
    expect(leader.client.sharing).toBe('leader');
  });

  it('connects on its own where the browser cannot share', () => {
    vi.stubGlobal('BroadcastChannel', undefined);
    const client = new SSEClient('/api/sse/stream', { EventSource: FakeEventSource, probe: false, share: true });
    clients.push(client);
    expect(client.sharing).toBe(null);
    expect(FakeEventSource.instances).toHaveLength(1);
  });
});
