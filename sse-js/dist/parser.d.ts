/**
 * The event-stream parser of the HTML standard ("9.2.6 Interpreting an event stream"), for the
 * fetch transport: bytes in, events and `retry:` hints out.
 *
 * @module
 */
/** One dispatched event. */
export interface ParsedEvent {
    /** The `event:` field, `message` when absent. */
    type: string;
    /** The `data:` lines joined with `\n`. */
    data: string;
    /** The last event id in effect when the event was dispatched (it persists across events). */
    lastEventId: string;
}
/** What the parser reports. */
export interface ParserSink {
    event(event: ParsedEvent): void;
    /** A `retry:` field: the reconnection time, in milliseconds. */
    retry(ms: number): void;
}
/**
 * An incremental parser. Feed it decoded text in chunks of any size; it splits lines on CR,
 * LF or CRLF (also across chunks), ignores a leading BOM and comment lines, and dispatches an
 * event at every blank line whose data buffer is not empty, as the standard says.
 *
 * @example
 * ```ts
 * const parser = new EventStreamParser({ event: (e) => console.log(e), retry: () => {} });
 * parser.feed('event: toast\ndata: {"a":1}\nid: 1-2-3\n\n');
 * ```
 */
export declare class EventStreamParser {
    private readonly sink;
    private buffer;
    private started;
    /** A CR ended the last chunk: an LF opening the next one belongs to it. */
    private pendingCR;
    private data;
    private type;
    private lastEventId;
    constructor(sink: ParserSink, lastEventId?: string);
    /** The last event id in effect (for a reconnect's `Last-Event-ID`). */
    get eventId(): string;
    /** Parses the next chunk of text. */
    feed(chunk: string): void;
    private line;
    private dispatch;
}
//# sourceMappingURL=parser.d.ts.map