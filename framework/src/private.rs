//! Support for the code the derive macros generate. Not a public API: anything here may
//! change in any release.

pub use serde;

/// `serde_json::Value`, the payload type the generated encoding names; with [`JsonError`], an
/// alias rather than a re-export of `serde_json`, which would make the compiler name
/// serde_json's types by this hidden path in its messages
/// ("`aggregato::__private::serde_json::raw::RawValue` implements `Deserialize`").
pub type JsonValue = serde_json::Value;

/// `serde_json::Error`: see [`JsonValue`].
pub type JsonError = serde_json::Error;

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::event::{DecodeError, EventSet, StoredPayload};

/// Serializes one event of an event set as `{"type", "version", "data"}`.
pub fn serialize_tagged<S: Serializer, T: Serialize>(
    serializer: S,
    event_type: &'static str,
    event_version: u32,
    data: &T,
) -> Result<S::Ok, S::Error> {
    let mut tagged = serializer.serialize_struct("Event", 3)?;
    tagged.serialize_field("type", event_type)?;
    tagged.serialize_field("version", &event_version)?;
    tagged.serialize_field("data", data)?;
    tagged.end()
}

/// The serialized shape of one event of an event set.
#[derive(Deserialize)]
pub struct TaggedEvent {
    /// The stored name.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The schema version.
    pub version: u32,
    /// The payload.
    pub data: serde_json::Value,
}

/// Applies a deletion: a live entity becomes deleted, keeping its last state.
pub fn delete_entity<T>(state: &mut crate::entity::EntityState<T>) {
    state.delete();
}

/// Whether two strings are equal, in a const context.
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// A type with no values, for the stand-in items `#[derive(Aggregate)]` emits beside its
/// errors: with a stand-in `Aggregate` impl, the user's handlers and commands type-check, so
/// the compiler reports only the real mistakes. Code using it never runs, since it never
/// compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {}

impl fmt::Display for Unreachable {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl std::error::Error for Unreachable {}

impl Serialize for Unreachable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        match *self {}
    }
}

impl<'de> Deserialize<'de> for Unreachable {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(
            "`Unreachable` has no values: nothing deserializes into it",
        ))
    }
}

impl EventSet for Unreachable {
    const EVENT_TYPES: &'static [&'static str] = &[];

    fn event_type(&self) -> &'static str {
        match *self {}
    }

    fn event_version(&self) -> u32 {
        match *self {}
    }

    fn encode(&self) -> Result<serde_json::Value, serde_json::Error> {
        match *self {}
    }

    fn decode<'a>(
        event_type: &str,
        _: u32,
        _: impl Into<StoredPayload<'a>>,
    ) -> Result<Self, DecodeError> {
        Err(DecodeError::UnknownEventType {
            event_type: event_type.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_compare_in_const_context() {
        const { assert!(str_eq("AB", "AB")) };
        const { assert!(!str_eq("AB", "BA")) };
        assert!(!str_eq("ab", "abc"));
    }

    #[test]
    fn nothing_decodes_into_unreachable() {
        assert!(serde_json::from_str::<Unreachable>("null").is_err());
        assert!(Unreachable::decode("Opened", 1, &serde_json::Value::Null).is_err());
    }
}
