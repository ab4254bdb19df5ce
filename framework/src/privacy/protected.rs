//! [`Protected<T>`]: a protected field's value as the application sees it, either the value or
//! the fact that it was erased.

use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::stored::{self, StoredForm};

/// The value of a protected field once read: the decrypted value, or `Redacted` when its
/// subject was forgotten. Put it in an event or state struct where a field holds personal
/// data, so code that reads the field must say what happens after an erasure.
///
/// Serde: `Value(v)` serializes as `v` itself (the generated encoding then seals it; a
/// hand-rolled serialization writes plaintext), `Redacted` as the string `"agg:redacted"`.
/// Deserializing reads `"agg:redacted"` as `Redacted` and anything else as a `T`, except a
/// sealed value (`"agg:v1:..."`), which is an error: it must be decrypted by a
/// [`FieldEncryptor`](super::FieldEncryptor) first, and must never be taken for the value
/// (for `T = String` it would be). `Debug` never shows the value, so logs do not leak it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Protected<T> {
    /// The value.
    Value(T),
    /// The subject was forgotten: the value is gone for good.
    Redacted,
}

impl<T> Protected<T> {
    /// The value, if it was not redacted.
    pub fn value(&self) -> Option<&T> {
        match self {
            Self::Value(value) => Some(value),
            Self::Redacted => None,
        }
    }

    /// The value, if it was not redacted.
    pub fn into_value(self) -> Option<T> {
        match self {
            Self::Value(value) => Some(value),
            Self::Redacted => None,
        }
    }

    /// Whether the value was redacted.
    pub fn is_redacted(&self) -> bool {
        matches!(self, Self::Redacted)
    }

    /// The value, or `replacement` when redacted (a per-field default).
    pub fn unwrap_or(self, replacement: T) -> T {
        self.into_value().unwrap_or(replacement)
    }
}

impl<T> From<T> for Protected<T> {
    fn from(value: T) -> Self {
        Self::Value(value)
    }
}

impl<T> fmt::Debug for Protected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(_) => f.write_str("Protected(<hidden>)"),
            Self::Redacted => f.write_str("Protected(<redacted>)"),
        }
    }
}

impl<T: Serialize> Serialize for Protected<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Value(value) => value.serialize(serializer),
            Self::Redacted => serializer.serialize_str(stored::REDACTED),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Protected<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Buffered as JSON so the stored forms can be recognised before `T` sees the value.
        let value = serde_json::Value::deserialize(deserializer)?;
        if let Some(text) = value.as_str() {
            match stored::parse(text) {
                StoredForm::Redacted => return Ok(Self::Redacted),
                StoredForm::Plain => {}
                StoredForm::Sealed { .. }
                | StoredForm::Unsupported(_)
                | StoredForm::Malformed(_) => {
                    return Err(D::Error::custom(
                        "a sealed protected value must be decrypted (FieldEncryptor::decrypt) before it is deserialized",
                    ));
                }
            }
        }
        T::deserialize(value)
            .map(Self::Value)
            .map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_round_trip_and_refusals() {
        let value = Protected::Value("Ada".to_owned());
        let json = serde_json::to_value(&value).expect("serialize");
        assert_eq!(json, serde_json::json!("Ada"));
        assert_eq!(
            serde_json::from_value::<Protected<String>>(json).expect("read"),
            value
        );
        let redacted: Protected<u32> = Protected::Redacted;
        let json = serde_json::to_value(&redacted).expect("serialize");
        assert_eq!(json, serde_json::json!("agg:redacted"));
        assert!(
            serde_json::from_value::<Protected<u32>>(json)
                .expect("read")
                .is_redacted()
        );
        let sealed = serde_json::json!("agg:v1:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assert!(serde_json::from_value::<Protected<String>>(sealed).is_err());
        assert_eq!(format!("{value:?}"), "Protected(<hidden>)");
    }
}
