/**
 * sse-js: the browser client of the universal SSE system.
 *
 * Framework-free; the React hooks live in `sse-js/react`.
 *
 * @module
 */
export { SSEClient } from './client.js';
export { backoffDelay } from './backoff.js';
