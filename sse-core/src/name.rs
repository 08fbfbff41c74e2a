//! The shared representation and validation rules of the validated names
//! ([`Channel`](crate::Channel), [`EventName`](crate::EventName), [`Role`](crate::Role),
//! [`Permission`](crate::Permission), [`UserId`](crate::UserId), [`MessageId`](crate::MessageId)).

use std::{borrow::Borrow, cmp::Ordering, fmt, hash, ops::Deref, sync::Arc};

use crate::error::NameError;

/// A cheaply clonable string: a `&'static str` for constants, an `Arc<str>` for runtime values.
#[derive(Clone)]
pub(crate) enum Name {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Name {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Static(s) => s,
            Self::Shared(s) => s,
        }
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl hash::Hash for Name {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The validation rule of one kind of name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    /// The field name used in errors (`"channel"`, `"user id"`).
    pub(crate) field: &'static str,
    /// Maximum length in characters.
    pub(crate) max: usize,
    /// Human-readable description of the allowed characters, used in errors.
    pub(crate) allowed: &'static str,
    /// Whether a character is allowed.
    pub(crate) accepts: fn(char) -> bool,
}

impl Rule {
    /// Checks `value` against this rule.
    pub(crate) fn check(&self, value: &str) -> Result<(), NameError> {
        if value.is_empty() {
            return Err(NameError::Empty { field: self.field });
        }
        let mut len = 0;
        for (index, ch) in value.chars().enumerate() {
            if !(self.accepts)(ch) {
                return Err(NameError::InvalidChar {
                    field: self.field,
                    ch,
                    index,
                    allowed: self.allowed,
                });
            }
            len += 1;
        }
        if len > self.max {
            return Err(NameError::TooLong {
                field: self.field,
                len,
                max: self.max,
            });
        }
        Ok(())
    }

    /// Validates and wraps a runtime value.
    pub(crate) fn parse(&self, value: &str) -> Result<Name, NameError> {
        self.check(value)?;
        Ok(Name::Shared(Arc::from(value)))
    }

    /// Validates and wraps an owned runtime value.
    pub(crate) fn parse_owned(&self, value: String) -> Result<Name, NameError> {
        self.check(&value)?;
        Ok(Name::Shared(Arc::from(value)))
    }
}

/// `a-z 0-9 - _ . :` (channels).
pub(crate) fn is_lower_name_char(ch: char) -> bool {
    matches!(ch, 'a'..='z' | '0'..='9' | '-' | '_' | '.' | ':')
}

/// `A-Z a-z 0-9 - _ . :` (event names).
pub(crate) fn is_name_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | ':')
}

/// `A-Z a-z 0-9 - _ . : /` (roles and permissions).
pub(crate) fn is_grant_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | ':' | '/')
}

/// Any character but control characters (user and message ids).
pub(crate) fn is_id_char(ch: char) -> bool {
    !ch.is_control()
}

/// The character classes of names that have `const` constructors.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AsciiClass {
    /// `a-z 0-9 - _ . :`
    Lower,
    /// `A-Z a-z 0-9 - _ . :`
    Name,
    /// `A-Z a-z 0-9 - _ . : /`
    Grant,
}

/// Checks a name made of ASCII bytes at compile time; used by the `const` constructors.
pub(crate) const fn check_ascii_literal(value: &str, max: usize, class: AsciiClass) {
    let bytes = value.as_bytes();
    assert!(!bytes.is_empty(), "name literal is empty");
    assert!(bytes.len() <= max, "name literal is too long");
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let ok = match class {
            AsciiClass::Lower => is_lower_name_byte(b),
            AsciiClass::Name => is_name_byte(b),
            AsciiClass::Grant => is_grant_byte(b),
        };
        assert!(ok, "name literal contains a character that is not allowed");
        i += 1;
    }
}

/// Byte form of [`is_lower_name_char`], usable in `const` context.
const fn is_lower_name_byte(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b':')
}

/// Byte form of [`is_name_char`], usable in `const` context.
const fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')
}

/// Byte form of [`is_grant_char`], usable in `const` context.
const fn is_grant_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/')
}

/// Implements the common traits of a validated name newtype over [`Name`].
macro_rules! name_type {
    ($ty:ident, $rule:expr) => {
        impl $ty {
            /// The name as a string slice.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::error::NameError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $rule.parse(s).map(Self)
            }
        }

        impl ::std::convert::TryFrom<&str> for $ty {
            type Error = $crate::error::NameError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                $rule.parse(s).map(Self)
            }
        }

        impl ::std::convert::TryFrom<String> for $ty {
            type Error = $crate::error::NameError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $rule.parse_owned(s).map(Self)
            }
        }

        impl ::std::ops::Deref for $ty {
            type Target = str;
            fn deref(&self) -> &str {
                self.0.as_str()
            }
        }

        impl ::std::convert::AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.0.as_str()
            }
        }

        impl ::std::borrow::Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                self.0.as_str()
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.0.as_str())
            }
        }

        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_tuple(stringify!($ty))
                    .field(&self.0.as_str())
                    .finish()
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.0.as_str() == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.0.as_str() == *other
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.0.as_str())
            }
        }
    };
}

/// Implements `Deserialize` from a string for a name newtype.
macro_rules! name_from_string {
    ($ty:ident) => {
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Validated inside the visitor, so that the error is raised while the
                // deserializer is at the value: error paths (`targetRoles[1]`) name it.
                struct Visitor;
                impl ::serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: ::serde::de::Error>(self, s: &str) -> Result<$ty, E> {
                        s.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(Visitor)
            }
        }
    };
}

pub(crate) use name_from_string;
pub(crate) use name_type;
