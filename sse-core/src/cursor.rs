//! Positions in the message log, sent to clients as SSE event ids.

use std::{cmp::Ordering, fmt, str::FromStr};

use crate::error::CursorError;

/// The position of a message in the hub's log, sent as the SSE `id:` of every delivered event
/// and read back from `Last-Event-ID` on reconnect.
///
/// A cursor is an `epoch` and a position `(major, minor)`, written `<epoch>-<major>-<minor>`.
/// Positions grow monotonically within an epoch. The epoch identifies one life of the log: the
/// in-memory log draws a new one each time the process starts, a Redis stream keeps one for as
/// long as its data lives. A cursor from another epoch therefore means the history it points
/// into is gone, and the client is told to resynchronise.
///
/// Cursors of different epochs are not ordered: `partial_cmp` returns `None`.
///
/// # Examples
///
/// ```
/// use sse_hub::Cursor;
///
/// let a: Cursor = "7-1700000000000-0".parse()?;
/// let b = Cursor::new(7, 1_700_000_000_000, 1);
/// assert!(a < b);
/// assert_eq!(b.to_string(), "7-1700000000000-1");
/// assert_eq!(a.partial_cmp(&Cursor::new(8, 0, 0)), None);
/// # Ok::<(), sse_hub::error::CursorError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    epoch: u64,
    major: u64,
    minor: u64,
}

impl Cursor {
    /// A cursor at `(major, minor)` in `epoch`.
    pub const fn new(epoch: u64, major: u64, minor: u64) -> Self {
        Self {
            epoch,
            major,
            minor,
        }
    }

    /// The epoch: one life of the log.
    pub const fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The major part of the position (a sequence number, or a Redis entry's milliseconds).
    pub const fn major(&self) -> u64 {
        self.major
    }

    /// The minor part of the position (0, or a Redis entry's sequence within its millisecond).
    pub const fn minor(&self) -> u64 {
        self.minor
    }

    /// Whether both cursors belong to the same life of the log.
    pub const fn same_epoch(&self, other: &Self) -> bool {
        self.epoch == other.epoch
    }

    /// The position, for comparisons inside one epoch.
    pub const fn position(&self) -> (u64, u64) {
        (self.major, self.minor)
    }
}

impl PartialOrd for Cursor {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.same_epoch(other)
            .then(|| self.position().cmp(&other.position()))
    }
}

impl Cursor {
    /// The longest cursor text: three `u64` values and two dashes.
    pub(crate) const MAX_LEN: usize = 3 * 20 + 2;

    /// Appends the cursor's text to `out`, without the formatting machinery: it is written
    /// once per log entry, on the hot path of every send.
    pub(crate) fn write_to(&self, out: &mut impl bytes::BufMut) {
        let mut digits = itoa::Buffer::new();
        out.put_slice(digits.format(self.epoch).as_bytes());
        out.put_u8(b'-');
        out.put_slice(digits.format(self.major).as_bytes());
        out.put_u8(b'-');
        out.put_slice(digits.format(self.minor).as_bytes());
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = Vec::with_capacity(Self::MAX_LEN);
        self.write_to(&mut text);
        f.write_str(std::str::from_utf8(&text).expect("digits and dashes"))
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({self})")
    }
}

impl FromStr for Cursor {
    type Err = CursorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || CursorError {
            value: s.chars().take(64).collect(),
        };
        let mut parts = s.split('-');
        let mut next = || -> Result<u64, CursorError> {
            let part = parts.next().ok_or_else(error)?;
            // `u64::from_str` accepts a leading `+`; a cursor never has one.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error());
            }
            part.parse().map_err(|_| error())
        };
        let cursor = Self::new(next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(error());
        }
        Ok(cursor)
    }
}

impl serde::Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let c: Cursor = "1-2-3".parse().unwrap();
        assert_eq!(c, Cursor::new(1, 2, 3));
        assert_eq!(c.to_string(), "1-2-3");
        let max = Cursor::new(u64::MAX, u64::MAX, u64::MAX);
        assert_eq!(max.to_string().parse::<Cursor>().unwrap(), max);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "1",
            "1-2",
            "1-2-3-4",
            "a-2-3",
            "1--3",
            "+1-2-3",
            "1-2-3 ",
            "18446744073709551616-0-0",
        ] {
            assert_eq!(
                bad.parse::<Cursor>(),
                Err(CursorError {
                    value: bad.to_owned()
                }),
                "{bad:?}"
            );
        }
        let long = "9".repeat(100);
        assert_eq!(long.parse::<Cursor>().unwrap_err().value.len(), 64);
    }

    #[test]
    fn orders_within_an_epoch_only() {
        let a = Cursor::new(1, 5, 9);
        let b = Cursor::new(1, 6, 0);
        assert!(a < b);
        assert!(b > a);
        assert_eq!(a.partial_cmp(&Cursor::new(2, 5, 9)), None);
        assert!(a >= Cursor::new(1, 0, 0));
        assert!(!a.lt(&Cursor::new(2, 9, 9)) && !a.ge(&Cursor::new(2, 9, 9)));
    }
}
