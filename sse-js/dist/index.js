/**
 * sse-js: the browser client of the universal SSE system.
 *
 * Framework-free; the React hooks live in `sse-js/react`.
 *
 * @module
 */
export { SSEClient } from './client.js';
export { EventStreamParser } from './parser.js';
export { TransportUnsupported, eventSourceTransport, fetchTransport, parseRetryAfter, } from './transport.js';
export { backoffDelay } from './backoff.js';
