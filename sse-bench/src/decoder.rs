//! Incremental decoding of an SSE response: the HTTP/1.1 head, the chunked body, the events.

use std::sync::LazyLock;

use memchr::memmem::Finder;

static SEQ: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"seq\":"));
static SENT_AT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"sentAtNanos\":"));

/// The longest response head or SSE line accepted, in bytes.
const MAX_LINE: usize = 1 << 20;

/// One event that carried data, with the benchmark fields found in it.
///
/// The payload of a benchmark message holds `"seq":<n>` and `"sentAtNanos":<t>`; they are
/// found wherever they sit in the `data:` lines, so the same decoder reads the plain data of
/// the reference server and the JSON envelope of ours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The message's sequence number, if the event is a benchmark message.
    pub seq: Option<u64>,
    /// When the message was published, in [`now_nanos`](crate::now_nanos) time.
    pub sent_at: Option<u64>,
}

/// Why a response cannot be read as an SSE stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The response status is not `200`; the stream is not open.
    Status(u16),
    /// The response head is malformed or too long.
    Head,
    /// A chunk header of the chunked body is malformed.
    Chunk,
    /// An SSE line is longer than 1 MiB.
    LineTooLong,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status(status) => write!(f, "status {status} instead of 200"),
            Self::Head => f.write_str("malformed response head"),
            Self::Chunk => f.write_str("malformed chunk header"),
            Self::LineTooLong => f.write_str("sse line longer than 1 MiB"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Reads an HTTP/1.1 SSE response fed to it in pieces of any size.
///
/// It parses the status line and headers, undoes `Transfer-Encoding: chunked` (or reads the
/// body to the end of the connection otherwise, as nchan writes it), splits the body into SSE
/// lines and hands every event that carried data to a callback; `id:` and `event:` lines are
/// skipped whatever their value (nchan's ids are `<time>:<n>`), and comment lines are counted
/// (nchan's first bytes are the comment `: hi`). It keeps only the unfinished line between
/// calls.
///
/// # Examples
///
/// ```
/// use sse_bench::{Decoded, StreamDecoder};
///
/// let mut decoder = StreamDecoder::new();
/// let mut events = Vec::new();
/// let response = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
///                  1f\r\nevent: data\ndata: {\"seq\":7,\"sen\r\n\
///                  f\r\ntAtNanos\":99}\n\n\r\n0\r\n\r\n";
/// // Any split works: feed it in three pieces.
/// for piece in [&response[..20], &response[20..60], &response[60..]] {
///     decoder.feed(piece, |event| events.push(event))?;
/// }
/// assert_eq!(events, [Decoded { seq: Some(7), sent_at: Some(99) }]);
/// assert!(decoder.is_done());
/// # Ok::<(), sse_bench::DecodeError>(())
/// ```
#[derive(Debug, Default)]
pub struct StreamDecoder {
    state: State,
    head: Vec<u8>,
    line: Vec<u8>,
    pending: Pending,
    events: u64,
    comments: u64,
    event_stream: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Head,
    /// Reading a chunk-size line.
    Size {
        value: u64,
        extension: bool,
    },
    /// Inside a chunk, with this many bytes left.
    Data(u64),
    /// After a chunk's data, up to its line end.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one; `text` if the line has any.
    Trailer {
        text: bool,
    },
    /// A body without chunked encoding: everything up to the end of the connection.
    Identity,
    Done,
}

#[derive(Debug, Default, Clone, Copy)]
struct Pending {
    has_data: bool,
    seq: Option<u64>,
    sent_at: Option<u64>,
}

impl StreamDecoder {
    /// A decoder waiting for the response head.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the next bytes of the response, calling `on_event` for every complete event
    /// that carried data. Returns whether the body has ended (the last chunk was read).
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the status is not 200 or the response is malformed; the stream
    /// should then be closed.
    pub fn feed(
        &mut self,
        mut input: &[u8],
        mut on_event: impl FnMut(Decoded),
    ) -> Result<bool, DecodeError> {
        if self.state == State::Head {
            let searched_from = self.head.len().saturating_sub(3);
            self.head.extend_from_slice(input);
            let Some(end) = memchr::memmem::find(&self.head[searched_from..], b"\r\n\r\n")
                .map(|at| searched_from + at + 4)
            else {
                if self.head.len() > MAX_LINE {
                    return Err(DecodeError::Head);
                }
                return Ok(false);
            };
            let head = std::mem::take(&mut self.head);
            (self.state, self.event_stream) = parse_head(&head[..end])?;
            return self.body(&head[end..], &mut on_event);
        }
        self.body(std::mem::take(&mut input), &mut on_event)
    }

    /// Whether the body has ended.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// How many events with data have been decoded.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// How many comment lines (starting with `:`) have been read.
    pub fn comments(&self) -> u64 {
        self.comments
    }

    /// Whether the response head said `content-type: text/event-stream` (with or without
    /// parameters); `false` until the head has been read.
    pub fn is_event_stream(&self) -> bool {
        self.event_stream
    }

    fn body(
        &mut self,
        mut input: &[u8],
        on_event: &mut impl FnMut(Decoded),
    ) -> Result<bool, DecodeError> {
        while !input.is_empty() {
            match self.state {
                State::Head => unreachable!("the head is parsed before the body"),
                State::Identity => {
                    self.sse(input, on_event)?;
                    input = &[];
                }
                State::Done => input = &[],
                State::Data(left) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(input.len());
                    self.sse(&input[..n], on_event)?;
                    input = &input[n..];
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd => match memchr::memchr(b'\n', input) {
                    Some(at) => {
                        input = &input[at + 1..];
                        self.state = State::Size {
                            value: 0,
                            extension: false,
                        };
                    }
                    None => input = &[],
                },
                State::Size { value, extension } => {
                    let byte = input[0];
                    input = &input[1..];
                    self.state = match (byte, extension) {
                        (b'\n', _) if value == 0 => State::Trailer { text: false },
                        (b'\n', _) => State::Data(value),
                        (b'\r' | b' ' | b'\t', _) | (_, true) => State::Size { value, extension },
                        (b';', false) => State::Size {
                            value,
                            extension: true,
                        },
                        (digit, false) => {
                            let digit = char::from(digit).to_digit(16).ok_or(DecodeError::Chunk)?;
                            if value > u64::MAX >> 8 {
                                return Err(DecodeError::Chunk);
                            }
                            State::Size {
                                value: value * 16 + u64::from(digit),
                                extension,
                            }
                        }
                    };
                }
                State::Trailer { text } => {
                    let byte = input[0];
                    input = &input[1..];
                    self.state = match byte {
                        b'\n' if !text => State::Done,
                        b'\n' => State::Trailer { text: false },
                        b'\r' => State::Trailer { text },
                        _ => State::Trailer { text: true },
                    };
                }
            }
        }
        Ok(self.state == State::Done)
    }

    /// Splits body bytes into SSE lines.
    fn sse(
        &mut self,
        mut data: &[u8],
        on_event: &mut impl FnMut(Decoded),
    ) -> Result<(), DecodeError> {
        while let Some(at) = memchr::memchr(b'\n', data) {
            if self.line.is_empty() {
                self.line_done(&data[..at], on_event);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&data[..at]);
                self.line_done(&line, on_event);
                line.clear();
                self.line = line;
            }
            data = &data[at + 1..];
        }
        if self.line.len() + data.len() > MAX_LINE {
            return Err(DecodeError::LineTooLong);
        }
        self.line.extend_from_slice(data);
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], on_event: &mut impl FnMut(Decoded)) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            if pending.has_data {
                self.events += 1;
                on_event(Decoded {
                    seq: pending.seq,
                    sent_at: pending.sent_at,
                });
            }
        } else if line.starts_with(b":") {
            self.comments += 1;
        } else if let Some(value) = line.strip_prefix(b"data:") {
            self.pending.has_data = true;
            if self.pending.seq.is_none() {
                self.pending.seq = number_after(&SEQ, value);
            }
            if self.pending.sent_at.is_none() {
                self.pending.sent_at = number_after(&SENT_AT, value);
            }
        }
    }
}

/// The body state a response head leads to, and whether its content type is
/// `text/event-stream`.
fn parse_head(head: &[u8]) -> Result<(State, bool), DecodeError> {
    let text = std::str::from_utf8(head).map_err(|_| DecodeError::Head)?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().ok_or(DecodeError::Head)?;
    let status: u16 = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
        .ok_or(DecodeError::Head)?;
    if status != 200 {
        return Err(DecodeError::Status(status));
    }
    let (mut chunked, mut event_stream) = (false, false);
    for (name, value) in lines.filter_map(|line| line.split_once(':')) {
        let (name, value) = (name.trim(), value.trim().to_ascii_lowercase());
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked |= value.contains("chunked");
        } else if name.eq_ignore_ascii_case("content-type") {
            event_stream |= value.split(';').next() == Some("text/event-stream");
        }
    }
    let state = if chunked {
        State::Size {
            value: 0,
            extension: false,
        }
    } else {
        State::Identity
    };
    Ok((state, event_stream))
}

/// The unsigned integer right after `key` in `haystack`.
fn number_after(key: &Finder<'_>, haystack: &[u8]) -> Option<u64> {
    let at = key.find(haystack)? + key.needle().len();
    let digits = haystack[at..].trim_ascii_start();
    let end = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(pieces: &[&[u8]]) -> (Vec<Decoded>, bool, u64) {
        let mut decoder = StreamDecoder::new();
        let mut events = Vec::new();
        let mut done = false;
        for piece in pieces {
            done = decoder.feed(piece, |e| events.push(e)).unwrap();
        }
        (events, done, decoder.events())
    }

    /// A chunked response as our server writes it: the preamble, then one message.
    fn ours() -> Vec<u8> {
        let mut out = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
            Transfer-Encoding: chunked\r\n\r\n"
            .to_vec();
        for chunk in [
            "retry: 3000\n\nevent: connected\ndata: {\"a\":1}\n\n",
            "id: 1-0-1\nevent: data\ndata: {\"channel\":\"x\",\"data\":{\"sentAtNanos\":12345,\"seq\":3},\"t\":1}\n\n",
        ] {
            out.extend_from_slice(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes());
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    }

    #[test]
    fn whole_response_yields_the_connected_event_then_the_message() {
        let (events, done, count) = decode_all(&[&ours()]);
        assert_eq!(
            events,
            [
                Decoded::default(),
                Decoded {
                    seq: Some(3),
                    sent_at: Some(12345)
                }
            ]
        );
        assert!(done);
        assert_eq!(count, 2);
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let response = ours();
        let (whole, _, _) = decode_all(&[&response]);
        for at in 1..response.len() {
            let (events, done, _) = decode_all(&[&response[..at], &response[at..]]);
            assert_eq!(events, whole, "split at {at}");
            assert!(done, "split at {at}");
        }
        let bytes: Vec<&[u8]> = response.chunks(1).collect();
        assert_eq!(decode_all(&bytes).0, whole);
    }

    #[test]
    fn chunk_extensions_and_trailers_are_skipped() {
        let response = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
            C;name=value\r\ndata: {}\r\n\r\n\r\n0\r\nx-trailer: 1\r\n\r\n";
        let (events, done, _) = decode_all(&[response]);
        assert_eq!(events, [Decoded::default()]);
        assert!(done);
    }

    #[test]
    fn a_body_without_chunking_is_read_to_the_end() {
        let response = b"HTTP/1.1 200 OK\r\n\r\ndata: {\"seq\": 9}\n\ndata: x\n";
        let (events, done, _) = decode_all(&[response]);
        assert_eq!(
            events,
            [Decoded {
                seq: Some(9),
                sent_at: None
            }]
        );
        assert!(!done);
    }

    #[test]
    fn comments_and_fields_without_data_are_not_events() {
        let response = b"HTTP/1.1 200 OK\r\n\r\n:\n\nretry: 5\n\nevent: x\n\n";
        let (events, _, count) = decode_all(&[response]);
        assert!(events.is_empty());
        assert_eq!(count, 0);
        let mut decoder = StreamDecoder::new();
        decoder.feed(response, |_| {}).unwrap();
        assert_eq!(decoder.comments(), 1);
        assert!(!decoder.is_event_stream(), "no content type");
    }

    /// A response as nginx with nchan writes it (captured from nchan 1.3.6): no chunking, the
    /// `: hi` comment, then `id:` and `data:` lines; the second message's payload has a newline,
    /// which nchan sends as two `data:` lines.
    fn nchan() -> Vec<u8> {
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 19:13:11 GMT\r\n\
          Content-Type: text/event-stream; charset=utf-8\r\nConnection: keep-alive\r\n\r\n\
          : hi\n\n\
          id: 1796584391:0\ndata: {\"seq\":0,\"sentAtNanos\":5}\n\n\
          id: 1796584391:1\ndata: {\"seq\":1,\ndata: \"sentAtNanos\":6}\n\n"
            .to_vec()
    }

    #[test]
    fn nchan_events_are_read_whatever_the_split() {
        let response = nchan();
        let expected = [
            Decoded {
                seq: Some(0),
                sent_at: Some(5),
            },
            Decoded {
                seq: Some(1),
                sent_at: Some(6),
            },
        ];
        for at in 0..=response.len() {
            let mut decoder = StreamDecoder::new();
            let mut events = Vec::new();
            for piece in [&response[..at], &response[at..]] {
                let done = decoder.feed(piece, |e| events.push(e)).unwrap();
                assert!(
                    !done,
                    "split at {at}: the body runs to the end of the connection"
                );
            }
            assert_eq!(events, expected, "split at {at}");
            assert_eq!(
                (decoder.events(), decoder.comments()),
                (2, 1),
                "split at {at}"
            );
            assert!(decoder.is_event_stream(), "split at {at}");
        }
    }

    #[test]
    fn the_hello_comment_alone_is_a_comment_and_no_event() {
        let response = nchan();
        let hello_end = memchr::memmem::find(&response, b"id:").unwrap();
        let mut decoder = StreamDecoder::new();
        let mut events = Vec::new();
        decoder
            .feed(&response[..hello_end], |e| events.push(e))
            .unwrap();
        assert!(events.is_empty());
        assert_eq!((decoder.events(), decoder.comments()), (0, 1));
        assert!(decoder.is_event_stream());
    }

    #[test]
    fn only_text_event_stream_is_an_event_stream() {
        for (content_type, expected) in [
            ("text/event-stream", true),
            ("Text/Event-Stream; charset=utf-8", true),
            ("text/event-streams", false),
            ("text/plain", false),
        ] {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\n\r\n");
            let mut decoder = StreamDecoder::new();
            decoder.feed(head.as_bytes(), |_| {}).unwrap();
            assert_eq!(decoder.is_event_stream(), expected, "{content_type}");
        }
    }

    #[test]
    fn a_refusal_is_an_error() {
        let mut decoder = StreamDecoder::new();
        let result = decoder.feed(b"HTTP/1.1 429 Too Many Requests\r\n\r\n", |_| {});
        assert_eq!(result, Err(DecodeError::Status(429)));
    }

    #[test]
    fn a_bad_chunk_size_is_an_error() {
        let mut decoder = StreamDecoder::new();
        let result = decoder.feed(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            |_| {},
        );
        assert_eq!(result, Err(DecodeError::Chunk));
    }
}
