/**
 * A stand-in for `fetch` that records each request and lets a test play the server: refuse
 * it (status, headers, body), or open an event stream and write to it, end it or break it.
 */
export interface FakeRequest {
  url: string;
  headers: Record<string, string>;
  credentials: RequestCredentials | undefined;
  /** Whether the client aborted it. */
  aborted: boolean;
  /** Answers with a refusal (or any non-stream response). */
  refuse(status: number, body?: unknown, headers?: Record<string, string>): void;
  /** Answers 200 `text/event-stream`; then `write`, `end` and `fail` drive the body. */
  open(): void;
  write(text: string): void;
  end(): void;
  fail(): void;
  /** The network failed before any response. */
  reject(): void;
}

export class FakeFetch {
  readonly requests: FakeRequest[] = [];

  get latest(): FakeRequest {
    const request = this.requests.at(-1);
    if (request === undefined) {
      throw new Error('no request was made');
    }
    return request;
  }

  readonly fetch = (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const headers = Object.fromEntries(
        Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [
          k.toLowerCase(),
          v,
        ]),
      );
      let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
      const encoder = new TextEncoder();
      const request: FakeRequest = {
        url: String(input),
        headers,
        credentials: init.credentials,
        aborted: false,
        refuse(status, body, extra = {}) {
          const text = body === undefined ? '' : JSON.stringify(body);
          resolve(response(status, { 'content-type': 'application/json', ...extra }, null, text));
        },
        open() {
          const body = new ReadableStream<Uint8Array>({
            start(c) {
              controller = c;
            },
          });
          resolve(response(200, { 'content-type': 'text/event-stream' }, body, ''));
        },
        write(text) {
          controller?.enqueue(encoder.encode(text));
        },
        end() {
          controller?.close();
        },
        fail() {
          controller?.error(new TypeError('network error'));
        },
        reject() {
          reject(new TypeError('Failed to fetch'));
        },
      };
      init.signal?.addEventListener('abort', () => {
        request.aborted = true;
        try {
          controller?.error(new DOMException('aborted', 'AbortError'));
        } catch {
          // Already closed.
        }
        reject(new DOMException('aborted', 'AbortError'));
      });
      this.requests.push(request);
    });
}

/** The parts of a Response the transport reads. */
function response(
  status: number,
  headers: Record<string, string>,
  body: ReadableStream<Uint8Array> | null,
  text: string,
): Response {
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: { get: (name: string) => headers[name.toLowerCase()] ?? null },
    body,
    text: async () => text,
  } as unknown as Response;
}

/** Lets pending promise callbacks run (streams hop through several). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 30; i += 1) {
    await Promise.resolve();
  }
}
