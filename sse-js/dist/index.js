/**
 * @universal-sse/client: the browser client of the universal SSE system.
 *
 * Framework-free; the React hooks live in `@universal-sse/client/react`, the test helpers in
 * `@universal-sse/client/testing`.
 *
 * @module
 */
export { SSEClient } from './client.js';
export { EventStreamParser } from './parser.js';
export { TransportUnsupported, eventSourceTransport, fetchTransport, parseRetryAfter, } from './transport.js';
export { backoffDelay } from './backoff.js';
//# sourceMappingURL=index.js.map