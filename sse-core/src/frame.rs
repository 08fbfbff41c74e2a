//! The SSE wire encoder.
//!
//! A frame is the text of one event as the `text/event-stream` format defines it: field lines
//! (`id:`, `event:`, `data:`, `retry:`, comments), then a blank line. The encoder writes exactly
//! what the WHATWG EventSource parser decodes back to the intended fields:
//!
//! - data is split on CR, LF and CRLF into several `data:` lines (the parser joins them with
//!   LF, so every line ending arrives as LF);
//! - every value is written after `": "`, so a leading space in the value survives the parser's
//!   removal of one space after the colon;
//! - `id:` and `event:` values containing CR, LF or NUL are rejected with a [`FrameError`]: they
//!   would split the field or make the parser ignore it.
//!
//! # Examples
//!
//! ```
//! use sse_hub::FrameBuilder;
//!
//! let frame = FrameBuilder::new()
//!     .id("7-1-0")?
//!     .event("toast")?
//!     .data("line one\nline two")
//!     .finish();
//! assert_eq!(&frame[..], b"id: 7-1-0\nevent: toast\ndata: line one\ndata: line two\n\n");
//! # Ok::<(), sse_hub::error::FrameError>(())
//! ```

use std::{
    fmt::{self, Write as _},
    time::Duration,
};

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::FrameError;

/// Builds one SSE frame.
///
/// Fields are written in the order the methods are called; [`finish`](FrameBuilder::finish)
/// ends the frame with the blank line that makes the client dispatch it.
#[must_use]
pub struct FrameBuilder {
    buf: BytesMut,
}

impl FrameBuilder {
    /// An empty frame.
    pub fn new() -> Self {
        Self::with_capacity(64)
    }

    /// An empty frame with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: BytesMut::with_capacity(capacity),
        }
    }

    /// Writes the `id:` field.
    ///
    /// # Errors
    ///
    /// [`FrameError::InvalidChar`] when `id` contains CR, LF or NUL.
    pub fn id(mut self, id: &str) -> Result<Self, FrameError> {
        check_field("id", id)?;
        self.field(b"id: ", id.as_bytes());
        Ok(self)
    }

    /// Writes the `event:` field.
    ///
    /// # Errors
    ///
    /// [`FrameError::InvalidChar`] when `event` contains CR, LF or NUL.
    pub fn event(mut self, event: &str) -> Result<Self, FrameError> {
        check_field("event", event)?;
        self.field(b"event: ", event.as_bytes());
        Ok(self)
    }

    /// Writes `data` as one `data:` line per line of text, splitting on CR, LF and CRLF.
    pub fn data(mut self, data: &str) -> Self {
        self.lines(b"data: ", data);
        self
    }

    /// Writes `value` as JSON on a single `data:` line.
    ///
    /// Compact JSON never contains a raw line break (they are escaped inside strings), so the
    /// value is serialised straight into the frame without an intermediate string.
    ///
    /// # Errors
    ///
    /// The serialisation error of `serde_json`, for values that cannot be JSON (maps with
    /// non-string keys, failing `Serialize` impls).
    pub fn json_data<T: serde::Serialize + ?Sized>(
        mut self,
        value: &T,
    ) -> Result<Self, serde_json::Error> {
        self.buf.put_slice(b"data: ");
        serde_json::to_writer((&mut self.buf).writer(), value)?;
        self.buf.put_u8(b'\n');
        Ok(self)
    }

    /// Writes the `retry:` field: the reconnection delay the client should use, in milliseconds.
    pub fn retry(mut self, retry: Duration) -> Self {
        let millis = u64::try_from(retry.as_millis()).unwrap_or(u64::MAX);
        // Writing into a `BytesMut` cannot fail.
        let _ = writeln!(self.buf, "retry: {millis}");
        self
    }

    /// Writes a comment, one `:` line per line of text. Clients ignore comments.
    pub fn comment(mut self, text: &str) -> Self {
        self.lines(b": ", text);
        self
    }

    /// Ends the frame with a blank line and returns its bytes.
    pub fn finish(mut self) -> Bytes {
        self.buf.put_u8(b'\n');
        self.buf.freeze()
    }

    /// The number of bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Returns the bytes written so far, without the final blank line.
    ///
    /// For frames that are completed later by prepending or appending fields, such as a
    /// message encoded once before its cursor is known.
    pub fn into_fields(self) -> BytesMut {
        self.buf
    }

    fn field(&mut self, prefix: &[u8], value: &[u8]) {
        self.buf.reserve(prefix.len() + value.len() + 1);
        self.buf.put_slice(prefix);
        self.buf.put_slice(value);
        self.buf.put_u8(b'\n');
    }

    fn lines(&mut self, prefix: &[u8], text: &str) {
        let bytes = text.as_bytes();
        let mut start = 0;
        while let Some(offset) = bytes[start..]
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
        {
            let end = start + offset;
            self.field(prefix, &bytes[start..end]);
            start = end + 1;
            if bytes[end] == b'\r' && bytes.get(start) == Some(&b'\n') {
                start += 1;
            }
        }
        self.field(prefix, &bytes[start..]);
    }
}

impl Default for FrameBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for FrameBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameBuilder")
            .field("buf", &String::from_utf8_lossy(&self.buf))
            .finish()
    }
}

impl FrameBuilder {
    /// Writes the `event:` field and the `data:` line of an event of the product's shape.
    pub(crate) fn event_data<D: serde::Serialize + ?Sized>(
        self,
        data: &crate::wire::EventEnvelope<'_, D>,
    ) -> Result<Self, serde_json::Error> {
        // Event types are validated names: they never contain CR, LF or NUL.
        let mut this = self;
        this.field(b"event: ", data.event.as_str().as_bytes());
        this.json_data(data)
    }
}

fn check_field(field: &'static str, value: &str) -> Result<(), FrameError> {
    match value.chars().find(|&c| matches!(c, '\r' | '\n' | '\0')) {
        Some(ch) => Err(FrameError::InvalidChar { field, ch }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &Bytes) -> &str {
        std::str::from_utf8(b).unwrap()
    }

    #[test]
    fn exact_bytes_of_every_field() {
        let frame = FrameBuilder::new()
            .comment("hello")
            .retry(Duration::from_millis(1500))
            .id("1-2-3")
            .unwrap()
            .event("update")
            .unwrap()
            .data("{\"a\":1}")
            .finish();
        assert_eq!(
            text(&frame),
            ": hello\nretry: 1500\nid: 1-2-3\nevent: update\ndata: {\"a\":1}\n\n"
        );
    }

    #[test]
    fn data_splits_on_cr_lf_and_crlf() {
        let frame = FrameBuilder::new().data("a\rb\nc\r\nd").finish();
        assert_eq!(text(&frame), "data: a\ndata: b\ndata: c\ndata: d\n\n");
    }

    #[test]
    fn trailing_and_doubled_line_breaks_keep_empty_lines() {
        assert_eq!(
            text(&FrameBuilder::new().data("a\n").finish()),
            "data: a\ndata: \n\n"
        );
        assert_eq!(
            text(&FrameBuilder::new().data("\r\r\n").finish()),
            "data: \ndata: \ndata: \n\n"
        );
        assert_eq!(text(&FrameBuilder::new().data("").finish()), "data: \n\n");
    }

    #[test]
    fn leading_space_is_preserved_by_the_separator_space() {
        assert_eq!(
            text(&FrameBuilder::new().data(" x").finish()),
            "data:  x\n\n"
        );
        assert_eq!(
            text(&FrameBuilder::new().event(" e").unwrap().finish()),
            "event:  e\n\n"
        );
    }

    #[test]
    fn colons_need_no_escaping() {
        assert_eq!(
            text(&FrameBuilder::new().data(": not a comment").finish()),
            "data: : not a comment\n\n"
        );
    }

    #[test]
    fn id_and_event_reject_cr_lf_nul() {
        for ch in ['\r', '\n', '\0'] {
            let value = format!("a{ch}b");
            assert_eq!(
                FrameBuilder::new().id(&value).unwrap_err(),
                FrameError::InvalidChar { field: "id", ch }
            );
            assert_eq!(
                FrameBuilder::new().event(&value).unwrap_err(),
                FrameError::InvalidChar { field: "event", ch }
            );
        }
        assert_eq!(
            FrameError::InvalidChar {
                field: "id",
                ch: '\n'
            }
            .to_string(),
            "id contains '\\n', which cannot be sent in an SSE id field"
        );
    }

    #[test]
    fn comments_split_like_data() {
        assert_eq!(
            text(&FrameBuilder::new().comment("a\r\nb").finish()),
            ": a\n: b\n\n"
        );
    }

    #[test]
    fn json_data_is_one_line() {
        let frame = FrameBuilder::new()
            .json_data(&serde_json::json!({"text": "two\nlines\r"}))
            .unwrap()
            .finish();
        assert_eq!(text(&frame), "data: {\"text\":\"two\\nlines\\r\"}\n\n");
    }
}
