/**
 * How the client reaches the stream: the browser's EventSource (the default), or a streaming
 * `fetch` that can send headers and sees the status, `Retry-After` and `retry:` fields.
 *
 * @module
 */
import { EventStreamParser } from './parser.js';
const CLOSED = 2;
/**
 * The EventSource transport: `Impl` (default `globalThis.EventSource`) on the request's URL.
 *
 * An EventSource sends no headers (the token goes in the query) and does not show the status
 * of a refusal (the `eventsource` package for Node adds it as `code`; otherwise a probe finds
 * it, see {@link EventSourceTransportOptions.probe}); it applies `retry:` itself when an open
 * stream ends, reconnecting with `Last-Event-ID`.
 */
export function eventSourceTransport(Impl, options = {}) {
    return (request, handlers) => {
        const Source = Impl ?? globalThis.EventSource;
        if (Source === undefined) {
            throw new TransportUnsupported('no EventSource implementation is available');
        }
        let source;
        try {
            source = new Source(request.url, { withCredentials: request.withCredentials });
        }
        catch (err) {
            throw new TransportUnsupported(`the EventSource could not be created: ${String(err)}`);
        }
        /** Whether the EventSource's events still count (until it fails for good or is closed). */
        let live = true;
        /** Whether the client closed the transport: a probe's late answer is dropped. */
        let closed = false;
        const probing = new AbortController();
        let opened = false;
        const listened = new Set();
        const listen = (type) => {
            if (listened.has(type)) {
                return;
            }
            listened.add(type);
            source.addEventListener(type, (event) => {
                if (!live) {
                    return;
                }
                const message = event;
                if (typeof message.data !== 'string') {
                    // Only a connection error is an `error` event without data; a server's `event:
                    // error` arrives as a MessageEvent.
                    if (type === 'error') {
                        onError(event);
                    }
                    return;
                }
                handlers.event(type, message.data, message.lastEventId ?? '');
            });
        };
        const onError = (event) => {
            const status = event.code;
            if (opened && source.readyState !== CLOSED && typeof status !== 'number') {
                // The stream ended; the EventSource reconnects after the server's `retry:`.
                opened = false;
                handlers.reconnecting();
                return;
            }
            live = false;
            source.close();
            const end = {
                opened,
                message: opened ? 'the stream ended or broke' : 'the stream could not be opened',
            };
            if (typeof status === 'number') {
                end.status = status;
                end.message += ` (HTTP ${status})`;
            }
            const doFetch = options.fetch ?? globalThis.fetch;
            if (opened || options.probe === false || doFetch === undefined) {
                handlers.end(end);
                return;
            }
            void probe(doFetch, request, probing.signal).then((found) => {
                if (!closed) {
                    handlers.end(found ?? end);
                }
            }, () => {
                if (!closed) {
                    handlers.end(end);
                }
            });
        };
        source.addEventListener('open', () => {
            if (live) {
                opened = true;
                handlers.open();
            }
        });
        listen('error');
        for (const type of request.types) {
            listen(type);
        }
        return {
            listen,
            close() {
                live = false;
                closed = true;
                probing.abort();
                source.close();
            },
        };
    };
}
/**
 * Asks the stream URL once with `fetch` why it refuses: the refusal's status, `Retry-After`
 * and body; `undefined` when it opens a stream (closed at once) or cannot be reached.
 */
async function probe(doFetch, request, signal) {
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal.addEventListener('abort', onAbort);
    const timer = setTimeout(onAbort, 5000);
    try {
        const response = await doFetch(request.url, {
            headers: { accept: 'text/event-stream' },
            cache: 'no-store',
            credentials: request.withCredentials ? 'include' : 'same-origin',
            signal: abort.signal,
        });
        const contentType = response.headers.get('content-type') ?? '';
        if (response.status === 200 && contentType.toLowerCase().startsWith('text/event-stream')) {
            abort.abort();
            return undefined;
        }
        return await refusal(response);
    }
    finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
    }
}
/**
 * The fetch transport: a streaming `fetch` parsed by the rules of the HTML standard. It sends
 * the request's headers (`Authorization` for a bearer token) and `Last-Event-ID`, sees the
 * status, the `Retry-After` header and the JSON body of a refusal, and reports `retry:`
 * fields; every reconnect is the client's.
 */
export function fetchTransport(options = {}) {
    return (request, handlers) => {
        const doFetch = options.fetch ?? globalThis.fetch;
        if (doFetch === undefined) {
            throw new TransportUnsupported('no fetch implementation is available');
        }
        const abort = new AbortController();
        const types = new Set(request.types);
        let live = true;
        let opened = false;
        const finish = (end) => {
            if (live) {
                live = false;
                handlers.end(end);
            }
        };
        const headers = {
            accept: 'text/event-stream',
            ...request.headers,
        };
        if (request.lastEventId !== undefined && request.lastEventId !== '') {
            headers['last-event-id'] = request.lastEventId;
        }
        void (async () => {
            let response;
            try {
                response = await doFetch(request.url, {
                    headers,
                    cache: 'no-store',
                    credentials: request.withCredentials ? 'include' : 'same-origin',
                    signal: abort.signal,
                });
            }
            catch (err) {
                finish({ opened: false, message: `the stream could not be opened: ${describe(err)}` });
                return;
            }
            if (!live) {
                return;
            }
            const contentType = response.headers.get('content-type') ?? '';
            if (response.status !== 200 || !contentType.toLowerCase().startsWith('text/event-stream')) {
                finish(await refusal(response));
                return;
            }
            if (response.body === null) {
                finish({ opened: false, status: 200, message: 'the response has no body' });
                return;
            }
            opened = true;
            handlers.open();
            const parser = new EventStreamParser({
                event: (event) => {
                    if (live && types.has(event.type)) {
                        handlers.event(event.type, event.data, event.lastEventId);
                    }
                },
                retry: (ms) => {
                    if (live) {
                        handlers.retry(ms);
                    }
                },
            }, request.lastEventId ?? '');
            const reader = response.body.getReader();
            const decoder = new TextDecoder();
            try {
                for (;;) {
                    const { done, value } = await reader.read();
                    if (done || !live) {
                        break;
                    }
                    parser.feed(decoder.decode(value, { stream: true }));
                }
                parser.feed(decoder.decode());
                finish({ opened: true, message: 'the stream ended' });
            }
            catch (err) {
                finish({ opened, message: `the stream broke: ${describe(err)}` });
            }
            finally {
                if (!live) {
                    reader.cancel().catch(() => { });
                }
            }
        })();
        return {
            listen(type) {
                types.add(type);
            },
            close() {
                live = false;
                abort.abort();
            },
        };
    };
}
/** The end of a refused request: status, `Retry-After` and the JSON body if any. */
async function refusal(response) {
    const end = {
        opened: false,
        status: response.status,
        message: response.status === 200
            ? 'the response is not an event stream'
            : `the stream could not be opened (HTTP ${response.status})`,
    };
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    if (retryAfter !== undefined) {
        end.retryAfterMs = retryAfter;
    }
    try {
        const text = await response.text();
        if (text !== '') {
            end.body = JSON.parse(text);
        }
    }
    catch {
        // No body, or not JSON.
    }
    return end;
}
/** `Retry-After` in milliseconds: delay-seconds or an HTTP date. */
export function parseRetryAfter(value, now = Date.now()) {
    if (value === null) {
        return undefined;
    }
    const trimmed = value.trim();
    if (/^[0-9]+$/.test(trimmed)) {
        return Number.parseInt(trimmed, 10) * 1000;
    }
    const date = Date.parse(trimmed);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
function describe(err) {
    return err instanceof Error ? err.message : String(err);
}
/** The transport cannot run here (no EventSource or fetch, or a URL it rejects). */
export class TransportUnsupported extends Error {
}
//# sourceMappingURL=transport.js.map