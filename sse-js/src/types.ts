/**
 * Wire-format types: what the server sends and what its HTTP API accepts and answers.
 *
 * They are the schemas of `openapi.ts`, which is generated from the OpenAPI document the Rust
 * crates derive from the types they serialise; this module names them and narrows the few
 * the schema leaves open (the payload type of an envelope, the built-in names of event types
 * and channels).
 *
 * @module
 */

import type { components } from './openapi.js';

/** The schemas of the OpenAPI document, by name. */
export type Schemas = components['schemas'];

export type { components, operations, paths } from './openapi.js';

/** The event types the server defines (the SSE `event:` field). */
export type BuiltinEventType =
  | 'connected'
  | 'heartbeat'
  | 'data'
  | 'update'
  | 'refresh'
  | 'toast'
  | 'alert'
  | 'notification'
  | 'broadcast'
  | 'error'
  | 'custom';

/**
 * An event type: one of the built-in types or a custom name the server validated.
 *
 * The `string & {}` keeps editor completion for the built-in names.
 */
export type EventType = BuiltinEventType | (string & {});

/** The channels the server defines. */
export type BuiltinChannel =
  | 'alerts'
  | 'notifications'
  | 'toasts'
  | 'live-updates'
  | 'admin-actions'
  | 'chat'
  | 'system'
  | 'custom';

/** A channel name: one of the built-in channels or a custom one. */
export type ChannelName = BuiltinChannel | (string & {});

/** How a message picks its recipients. */
export type Target = Schemas['Target'];

/**
 * The JSON object carried in the `data:` line of every message event (schema
 * `EventEnvelope`).
 *
 * `data` is the payload the publisher sent; event handlers receive it as their first argument
 * and the whole envelope as their second.
 */
export type Envelope<T = unknown> = Omit<Schemas['EventEnvelope'], 'channel' | 'event' | 'data'> & {
  /** The channel the message was published on. */
  channel: ChannelName;
  /** The event type; the same as the SSE `event:` field. */
  event: EventType;
  /** The payload. */
  data: T;
};

/**
 * A message as the HTTP publish API accepts it (schema `Message`).
 *
 * User ids may be strings or integers on input; the server writes them as strings.
 */
export type SSEMessage<T = unknown> = Omit<Schemas['Message'], 'channel' | 'event' | 'data'> & {
  channel: ChannelName;
  event: EventType;
  /** The payload: any JSON (default `null`). */
  data?: T;
};

/** The payload of the `connected` event, the first event of every stream. */
export type ConnectedData = Schemas['ConnectedData'];

/** The payload of a `heartbeat` event. It has no envelope on the wire. */
export type HeartbeatData = Schemas['HeartbeatData'];

/**
 * The payload of the `refresh` event the server sends when its history no longer reaches the
 * cursor a client resumed from: the client missed messages and must reload its state.
 */
export type HistoryGapData = Schemas['HistoryGapData'];

/**
 * The payload of the `refresh` event that ends a stream whose credentials expired or were
 * revoked; the client reconnects with a fresh token and resumes.
 */
export type AuthExpiredData = Schemas['AuthExpiredData'];

/** The payload of the `refresh` event sent by the server's `invalidate_client_caches`. */
export type CacheInvalidationData = Schemas['CacheInvalidationData'];

/** The payload of the `refresh` event sent by the server's `trigger_refresh`. */
export type ResourceRefreshData = Schemas['ResourceRefreshData'];

/** The payload of a `presence-join` or `presence-leave` event on a presence channel. */
export type PresenceData = Schemas['PresenceData'];

/** The payload of a `toast` event sent by the server's `send_toast`. */
export type ToastData = Schemas['ToastData'];

/** The kind of a toast: `success`, `error`, `warning` or `info`. */
export type ToastKind = Schemas['ToastKind'];

/**
 * The body of an HTTP refusal (4xx/5xx) of the stream endpoint or the HTTP API: `error` is a
 * machine-readable code such as `unauthorized`, `forbidden`, `banned`, `too_many_requests`.
 */
export type ErrorBody = Schemas['Error'];

/** The answer to a publish (`POST /publish`): how many connections the message reached. */
export type SendReport = Schemas['SendReport'];

/** `GET /stats`: one instance's statistics, and on a shared backplane the cluster's. */
export type Stats = Schemas['Stats'];

/** An open connection, as `GET /connections` lists it. */
export type ConnectionInfo = Schemas['ConnectionInfo'];

/** `GET /explain`: what happened to a message at each of a user's connections. */
export type Explain = Schemas['Explain'];

/** `GET /presence/{channel}`: who is connected to a channel, on every instance. */
export type PresenceOf = Schemas['PresenceOf'];
