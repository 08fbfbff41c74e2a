/**
 * The generated wire types say what the server writes: checked by the type checker
 * (`npm run typecheck`), with one runtime assertion per case so that vitest runs them.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';

import type {
  AuthExpiredData,
  CacheInvalidationData,
  ConnectedData,
  Envelope,
  ErrorBody,
  HistoryGapData,
  PresenceData,
  ResourceRefreshData,
  SSEMessage,
  SendReport,
  ToastData,
} from '../../src/index.js';

describe('generated types', () => {
  it('give the system events literal reasons and types to tell them apart', () => {
    expectTypeOf<HistoryGapData['reason']>().toEqualTypeOf<'history-gap'>();
    expectTypeOf<AuthExpiredData['reason']>().toEqualTypeOf<'auth-expired'>();
    expectTypeOf<CacheInvalidationData['type']>().toEqualTypeOf<'cache-invalidation'>();
    expectTypeOf<ResourceRefreshData['reason']>().toEqualTypeOf<string | null>();
    expectTypeOf<HistoryGapData['lastEventId']>().toEqualTypeOf<string | null>();
    const gap: HistoryGapData = { reason: 'history-gap', lastEventId: null, channels: ['chat'] };
    expect(gap.reason).toBe('history-gap');
  });

  it('describe the connected event and a toast as the hub writes them', () => {
    const connected: ConnectedData = {
      connectionId: 'conn-1',
      channels: ['alerts'],
      userId: null,
      resumed: false,
      replayed: 0,
      historyGap: false,
      heartbeatInterval: 15000,
    };
    const toast: ToastData = { message: 'saved', type: 'success', duration: 5000, dismissible: true };
    expectTypeOf<ToastData['type']>().toEqualTypeOf<'success' | 'error' | 'warning' | 'info'>();
    expectTypeOf<PresenceData>().toEqualTypeOf<{ userId: string; connections: number }>();
    expect([connected.heartbeatInterval, toast.duration]).toEqual([15000, 5000]);
  });

  it('leave what a publish may omit optional, and type the envelope by its payload', () => {
    const message: SSEMessage<{ title: string }> = {
      channel: 'notifications',
      event: 'notification',
      data: { title: 'Hi' },
      target: 'user-specific',
      targetUsers: [42, 'alice'],
    };
    expectTypeOf<Envelope<{ title: string }>['data']>().toEqualTypeOf<{ title: string }>();
    expectTypeOf<SendReport['duplicate']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<ErrorBody['until']>().toEqualTypeOf<number | null | undefined>();
    expect(message.targetUsers).toEqual([42, 'alice']);
  });
});
