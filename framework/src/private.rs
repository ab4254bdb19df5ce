//! Support for the code the derive macros generate. Not a public API: anything here may
//! change in any release.

pub use serde;
pub use serde_json;

use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::event::{DecodeError, DomainEvent, EventSet, StoredPayload, decode_current};

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

/// Whether `names[index]` repeats a name listed before it: the stored-name check of an event
/// set, one per listed event (spanned at it), each looking back over the ones before.
pub const fn repeats_earlier(names: &[&str], index: usize) -> bool {
    let mut earlier = 0;
    while earlier < index && index < names.len() {
        if str_eq(names[earlier], names[index]) {
            return true;
        }
        earlier += 1;
    }
    false
}

/// The conversion `#[event(upcast_from = O)]` needs, under a name that lets the compiler say
/// what to write when it is missing.
#[diagnostic::on_unimplemented(
    message = "`upcast_from = {O}` needs `impl From<{O}> for {Self}`",
    label = "`{Self}` cannot be built from `{O}`",
    note = "write `impl From<{O}> for {Self} {{ fn from(old: {O}) -> Self {{ .. }} }}`: it brings payloads stored under the older schema up to this one"
)]
pub trait UpcastFrom<O>: From<O> {}

impl<T: From<O>, O> UpcastFrom<O> for T {}

/// `DomainEvent::decode_stored` for an event declared `#[event(upcast_from = O)]`: its own
/// version decodes directly, older ones through `O` and `From<O>`.
pub fn decode_upcasting<T, O>(
    stored_version: u32,
    payload: StoredPayload<'_>,
) -> Result<T, DecodeError>
where
    T: DomainEvent + UpcastFrom<O>,
    O: DomainEvent,
{
    if stored_version > T::EVENT_VERSION {
        return Err(DecodeError::unsupported_version::<T>(stored_version));
    }
    if stored_version == T::EVENT_VERSION {
        return decode_current(payload);
    }
    match O::decode_stored(stored_version, payload) {
        Ok(older) => Ok(T::from(older)),
        // The chain's oldest link knows less than `T`: report what `T` can read.
        Err(DecodeError::UnsupportedVersion { stored, .. }) => {
            Err(DecodeError::unsupported_version::<T>(stored))
        }
        Err(other) => Err(other),
    }
}

/// The comparison an entity's update makes to leave unchanged fields out of its event, under
/// a name that lets the compiler say what to do when a field cannot be compared.
#[diagnostic::on_unimplemented(
    message = "the entity field type `{Self}` must implement `PartialEq`",
    label = "an update compares this field with its current value",
    note = "derive or implement `PartialEq` for `{Self}`, or mark the field `#[entity(readonly)]` (set at creation only) or `#[entity(skip)]` (not stored)"
)]
pub trait PatchField: PartialEq {}

impl<T: PartialEq> PatchField for T {}

/// Whether a patched field's new value differs from the current one.
pub fn differs<T: PatchField>(new: &T, current: &T) -> bool {
    new != current
}

/// The copy of an entity that an update's struct-level `validate` sees, with the update applied.
#[diagnostic::on_unimplemented(
    message = "`#[entity(validate = ...)]` on `{Self}` needs `{Self}: Clone`",
    label = "the validator of an update sees a copy of the entity with the update applied",
    note = "add `#[derive(Clone)]` to `{Self}`"
)]
pub trait WouldBe: Clone {}

impl<T: Clone> WouldBe for T {}

/// A copy of `current` to apply an update to before validating it.
pub fn would_be<T: WouldBe>(current: &T) -> T {
    current.clone()
}

/// The outcome of one `#[entity(validate = ...)]` function: its error rejects the command.
pub fn rejects<E>(outcome: Result<(), E>) -> Result<(), crate::entity::EntityError<E>> {
    outcome.map_err(crate::entity::EntityError::Rejected)
}

/// Deserializes a present patch field as `Some(value)`, so that a field whose type is itself an
/// `Option` keeps "set to `None`" (stored as `null`) apart from "unchanged" (absent), which
/// plain `Option<Option<T>>` deserialization would merge. An absent field is `None` through
/// `#[serde(default)]`.
pub fn deserialize_patch_field<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
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
    fn repeated_names_are_found_looking_back() {
        const NAMES: &[&str] = &["Opened", "Closed", "Opened"];
        const { assert!(!repeats_earlier(NAMES, 0)) };
        const { assert!(!repeats_earlier(NAMES, 1)) };
        const { assert!(repeats_earlier(NAMES, 2)) };
        assert!(
            !repeats_earlier(NAMES, 3),
            "an index past the end repeats nothing"
        );
    }

    #[test]
    fn nothing_decodes_into_unreachable() {
        assert!(serde_json::from_str::<Unreachable>("null").is_err());
        assert!(Unreachable::decode("Opened", 1, &serde_json::Value::Null).is_err());
    }
}
