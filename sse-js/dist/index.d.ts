/**
 * @universal-sse/client: the browser client of the universal SSE system.
 *
 * Framework-free; the React hooks live in `@universal-sse/client/react`, the test helpers in
 * `@universal-sse/client/testing`.
 *
 * @module
 */
export { SSEClient } from './client.js';
export type { ConnectionError, ConnectionErrorReason, ConnectionState, ConnectionStatus, EventSourceConstructor, EventSourceLike, ListenerMethod, ListenerType, SSEClientOptions, SSEEventHandler, SSEEventMap, } from './client.js';
export type { BroadcastChannelConstructor, LockManagerLike } from './share.js';
export { EventStreamParser } from './parser.js';
export type { ParsedEvent, ParserSink } from './parser.js';
export { TransportUnsupported, eventSourceTransport, fetchTransport, parseRetryAfter, } from './transport.js';
export type { EventSourceTransportOptions, FetchTransportOptions, Transport, TransportEnd, TransportFactory, TransportHandlers, TransportRequest, } from './transport.js';
export { backoffDelay } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export type { AuthExpiredData, BuiltinChannel, BuiltinEventType, CacheInvalidationData, ChannelName, ConnectedData, ConnectionInfo, Envelope, ErrorBody, EventType, Explain, HeartbeatData, HistoryGapData, PresenceData, PresenceOf, ResourceRefreshData, Schemas, SendReport, SSEMessage, Stats, Target, ToastData, ToastKind, components, operations, paths, } from './types.js';
//# sourceMappingURL=index.d.ts.map