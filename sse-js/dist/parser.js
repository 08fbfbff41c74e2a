/**
 * The event-stream parser of the HTML standard ("9.2.6 Interpreting an event stream"), for the
 * fetch transport: bytes in, events and `retry:` hints out.
 *
 * @module
 */
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
export class EventStreamParser {
    sink;
    buffer = '';
    started = false;
    /** A CR ended the last chunk: an LF opening the next one belongs to it. */
    pendingCR = false;
    data = [];
    type = '';
    lastEventId = '';
    constructor(sink, lastEventId = '') {
        this.sink = sink;
        this.lastEventId = lastEventId;
    }
    /** The last event id in effect (for a reconnect's `Last-Event-ID`). */
    get eventId() {
        return this.lastEventId;
    }
    /** Parses the next chunk of text. */
    feed(chunk) {
        let text = chunk;
        if (!this.started) {
            if (text.length === 0) {
                return;
            }
            this.started = true;
            if (text.charCodeAt(0) === 0xfeff) {
                text = text.slice(1);
            }
        }
        if (this.pendingCR && text.startsWith('\n')) {
            text = text.slice(1);
        }
        this.pendingCR = false;
        this.buffer += text;
        let start = 0;
        for (;;) {
            const cr = this.buffer.indexOf('\r', start);
            const lf = this.buffer.indexOf('\n', start);
            if (cr === -1 && lf === -1) {
                break;
            }
            let end;
            let next;
            if (cr !== -1 && (lf === -1 || cr < lf)) {
                end = cr;
                if (cr + 1 < this.buffer.length) {
                    next = this.buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
                }
                else {
                    // A CR at the end of what we have: the line ends here; an LF may follow later.
                    next = cr + 1;
                    this.pendingCR = true;
                }
            }
            else {
                end = lf;
                next = lf + 1;
            }
            this.line(this.buffer.slice(start, end));
            start = next;
        }
        this.buffer = this.buffer.slice(start);
    }
    line(line) {
        if (line === '') {
            this.dispatch();
            return;
        }
        if (line.startsWith(':')) {
            return;
        }
        const colon = line.indexOf(':');
        let field = line;
        let value = '';
        if (colon !== -1) {
            field = line.slice(0, colon);
            value = line.slice(colon + 1);
            if (value.startsWith(' ')) {
                value = value.slice(1);
            }
        }
        switch (field) {
            case 'event':
                this.type = value;
                break;
            case 'data':
                this.data.push(value);
                break;
            case 'id':
                if (!value.includes('\0')) {
                    this.lastEventId = value;
                }
                break;
            case 'retry':
                if (/^[0-9]+$/.test(value)) {
                    this.sink.retry(Number.parseInt(value, 10));
                }
                break;
            default:
                break;
        }
    }
    dispatch() {
        const type = this.type === '' ? 'message' : this.type;
        this.type = '';
        if (this.data.length === 0) {
            return;
        }
        const data = this.data.join('\n');
        this.data = [];
        this.sink.event({ type, data, lastEventId: this.lastEventId });
    }
}
//# sourceMappingURL=parser.js.map