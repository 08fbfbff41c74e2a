//! Stream entry ids and the decoding of Redis stream replies.

use std::{fmt, sync::Arc};

use redis::Value;
use sse_hub::{Cursor, Entry, Envelope, error::BackplaneError};

/// The field of a stream entry that holds the envelope's transport bytes.
pub(crate) const FIELD: &str = "e";

/// A stream entry id, `<ms>-<seq>`: the position part of a [`Cursor`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct EntryId {
    pub(crate) ms: u64,
    pub(crate) seq: u64,
}

impl EntryId {
    /// `0-0`: before every entry, the position to read a whole stream from.
    pub(crate) const ZERO: Self = Self { ms: 0, seq: 0 };

    /// The position of a cursor.
    pub(crate) fn of(cursor: &Cursor) -> Self {
        Self {
            ms: cursor.major(),
            seq: cursor.minor(),
        }
    }

    /// The cursor at this position in `epoch`.
    pub(crate) fn cursor(self, epoch: u64) -> Cursor {
        Cursor::new(epoch, self.ms, self.seq)
    }

    pub(crate) fn parse(text: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(text).ok()?;
        let (ms, seq) = text.split_once('-')?;
        Some(Self {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// A stream entry as Redis returned it: its id and its envelope bytes, if it has the field.
#[derive(Debug)]
pub(crate) struct RawEntry {
    pub(crate) id: EntryId,
    pub(crate) envelope: Option<Vec<u8>>,
}

impl RawEntry {
    /// The log entry at this id in `epoch`, or why it cannot be decoded.
    pub(crate) fn decode(self, epoch: u64) -> Result<Entry, BackplaneError> {
        let bytes = self.envelope.ok_or_else(|| {
            BackplaneError::Corrupt(
                format!("stream entry {} has no field {FIELD:?}", self.id).into(),
            )
        })?;
        let envelope = Envelope::from_transport(&bytes).map_err(|err| match err {
            BackplaneError::Corrupt(why) => {
                BackplaneError::Corrupt(format!("stream entry {}: {why}", self.id).into())
            }
            other => other,
        })?;
        Ok(Entry::new(self.id.cursor(epoch), Arc::new(envelope)))
    }
}

/// The entries of an `XRANGE` or `XREVRANGE` reply.
pub(crate) fn range(value: Value) -> Result<Vec<RawEntry>, BackplaneError> {
    match value {
        Value::Nil => Ok(Vec::new()),
        Value::Array(items) => items.into_iter().map(entry).collect(),
        other => Err(unexpected("a list of stream entries", &other)),
    }
}

/// The entries of an `XREAD` reply for one stream (nil when the block timed out).
pub(crate) fn read(value: Value) -> Result<Vec<RawEntry>, BackplaneError> {
    let per_stream: Vec<(Value, Value)> = match value {
        Value::Nil => return Ok(Vec::new()),
        // RESP2: [[key, entries], ...]
        Value::Array(streams) => streams
            .into_iter()
            .map(|stream| match stream {
                Value::Array(pair) if pair.len() == 2 => {
                    let mut pair = pair.into_iter();
                    Ok((
                        pair.next().unwrap_or_default(),
                        pair.next().unwrap_or_default(),
                    ))
                }
                other => Err(unexpected("a [key, entries] pair", &other)),
            })
            .collect::<Result<_, _>>()?,
        // RESP3: {key: entries, ...}
        Value::Map(streams) => streams,
        other => return Err(unexpected("an XREAD reply", &other)),
    };
    let mut out = Vec::new();
    for (_key, entries) in per_stream {
        out.extend(range(entries)?);
    }
    Ok(out)
}

/// The epoch stored at `<key>:epoch`, if there is one.
pub(crate) fn epoch(value: &Value) -> Result<Option<u64>, BackplaneError> {
    match value {
        Value::Nil => Ok(None),
        other => {
            let text = bytes(other).ok_or_else(|| unexpected("an epoch", other))?;
            std::str::from_utf8(text)
                .ok()
                .and_then(|t| t.parse().ok())
                .map(Some)
                .ok_or_else(|| {
                    BackplaneError::Corrupt(
                        format!(
                            "the epoch is not a number: {:?}",
                            String::from_utf8_lossy(text)
                        )
                        .into(),
                    )
                })
        }
    }
}

/// A stream entry id in a reply.
pub(crate) fn entry_id(value: &Value) -> Result<EntryId, BackplaneError> {
    bytes(value)
        .and_then(EntryId::parse)
        .ok_or_else(|| unexpected("a stream entry id", value))
}

fn entry(value: Value) -> Result<RawEntry, BackplaneError> {
    let Value::Array(parts) = value else {
        return Err(unexpected("a stream entry", &value));
    };
    let mut parts = parts.into_iter();
    let id = entry_id(&parts.next().unwrap_or_default())?;
    let fields: Vec<(Value, Value)> = match parts.next().unwrap_or_default() {
        Value::Array(flat) => {
            let mut flat = flat.into_iter();
            let mut pairs = Vec::with_capacity(flat.len() / 2);
            while let (Some(k), Some(v)) = (flat.next(), flat.next()) {
                pairs.push((k, v));
            }
            pairs
        }
        Value::Map(pairs) => pairs,
        // An entry deleted by XDEL can show up without fields.
        Value::Nil => Vec::new(),
        other => return Err(unexpected("the fields of a stream entry", &other)),
    };
    let envelope = fields.into_iter().find_map(|(k, v)| {
        (bytes(&k) == Some(FIELD.as_bytes())).then(|| match v {
            Value::BulkString(b) => b,
            Value::SimpleString(s) => s.into_bytes(),
            _ => Vec::new(),
        })
    });
    Ok(RawEntry { id, envelope })
}

fn bytes(value: &Value) -> Option<&[u8]> {
    match value {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

fn unexpected(what: &str, got: &Value) -> BackplaneError {
    BackplaneError::Unavailable(
        format!("redis answered with something other than {what}: {got:?}").into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn entry_ids_parse_print_and_order() {
        let id = EntryId::parse(b"1700000000000-3").unwrap();
        assert_eq!(
            id,
            EntryId {
                ms: 1_700_000_000_000,
                seq: 3
            }
        );
        assert_eq!(id.to_string(), "1700000000000-3");
        assert_eq!(id.cursor(9), Cursor::new(9, 1_700_000_000_000, 3));
        assert_eq!(
            EntryId::of(&Cursor::new(9, 5, 6)),
            EntryId { ms: 5, seq: 6 }
        );
        assert!(EntryId { ms: 1, seq: 9 } < EntryId { ms: 2, seq: 0 });
        for bad in [&b""[..], b"1", b"1-", b"-1", b"a-1", b"1-2-3", b"\xff-1"] {
            assert_eq!(EntryId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reads_resp2_and_resp3_xread_replies() {
        let entries = Value::Array(vec![
            Value::Array(vec![bulk("1-0"), Value::Array(vec![bulk("e"), bulk("x")])]),
            Value::Array(vec![
                bulk("1-1"),
                Value::Array(vec![bulk("other"), bulk("y")]),
            ]),
        ]);
        let resp2 = Value::Array(vec![Value::Array(vec![bulk("k"), entries.clone()])]);
        let resp3 = Value::Map(vec![(bulk("k"), entries)]);
        for reply in [resp2, resp3] {
            let got = read(reply).unwrap();
            assert_eq!(got.len(), 2);
            assert_eq!(got[0].id, EntryId { ms: 1, seq: 0 });
            assert_eq!(got[0].envelope.as_deref(), Some(&b"x"[..]));
            assert_eq!(got[1].id, EntryId { ms: 1, seq: 1 });
            assert_eq!(got[1].envelope, None);
        }
        assert!(read(Value::Nil).unwrap().is_empty());
        assert!(read(Value::Int(3)).is_err());
    }

    #[test]
    fn entries_without_a_valid_envelope_are_corrupt() {
        let missing = RawEntry {
            id: EntryId { ms: 4, seq: 2 },
            envelope: None,
        };
        let err = missing.decode(1).unwrap_err();
        assert!(matches!(err, BackplaneError::Corrupt(_)), "{err}");
        assert!(err.to_string().contains("4-2"), "{err}");
        let garbage = RawEntry {
            id: EntryId { ms: 4, seq: 3 },
            envelope: Some(b"not an envelope".to_vec()),
        };
        assert!(matches!(garbage.decode(1), Err(BackplaneError::Corrupt(_))));
    }

    #[test]
    fn reads_epochs() {
        assert_eq!(epoch(&Value::Nil).unwrap(), None);
        assert_eq!(epoch(&bulk("42")).unwrap(), Some(42));
        assert!(matches!(epoch(&bulk("x")), Err(BackplaneError::Corrupt(_))));
    }
}
