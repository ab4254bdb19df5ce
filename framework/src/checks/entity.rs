//! What `#[derive(Entity)]` requires of the fields it copies into its generated events and
//! commands, and of the functions its attribute names.
//!
//! The generated code reaches every trait a stored field needs (`Clone`, `Debug`, serde's
//! two) through [`EntityField`], spanned at the field's type: a field type that lacks one of
//! them is then one error, at the field, in these words, instead of one per message and trait
//! with serde's internals in the notes.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserializer, Serialize, Serializer};

/// What the type of an entity's stored field must be: it is copied into the entity's generated
/// events and commands, which are stored as JSON, cloned and logged.
///
/// The generated code reaches each of these traits through this trait's functions, named as
/// `<Field as EntityField>::...` at the field's type. The requirements are the blanket impl's
/// bounds rather than supertraits, and the impl is not recommended: a type that lacks some of
/// them is then the same error, `Field: EntityField` in these words, from every use, which the
/// compiler reports once, at the field.
#[diagnostic::on_unimplemented(
    message = "the entity field type `{Self}` must implement `Serialize`, `Deserialize`, `Clone`, `Debug`, `Send` and `Sync`",
    label = "this field is copied into the entity's generated events and commands, which are stored as JSON, cloned and logged",
    note = "add `#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]` to `{Self}`, or mark the field `#[entity(skip)]` (not stored); a borrowed field (`&str`) cannot be read back: own its data (`String`)"
)]
pub trait EntityField: Sized {
    /// `Clone` of a field.
    fn clone_field(&self) -> Self;

    /// `Clone` of a patch's field.
    fn clone_patch(patch: &Option<Self>) -> Option<Self>;

    /// `Debug` of a field.
    fn debug_field(&self) -> &dyn Debug;

    /// `Debug` of a patch's field.
    fn debug_patch(patch: &Option<Self>) -> &dyn Debug;

    /// Serializes a field (serde's `serialize_with`).
    fn serialize_field<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;

    /// Serializes a patch's field; an absent one is skipped before this is called.
    fn serialize_patch<S: Serializer>(
        patch: &Option<Self>,
        serializer: S,
    ) -> Result<S::Ok, S::Error>;

    /// Deserializes a field (serde's `deserialize_with`).
    fn deserialize_field<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;

    /// Deserializes a present patch field as `Some(value)`, so that a field whose type is
    /// itself an `Option` keeps "set to `None`" (stored as `null`) apart from "unchanged"
    /// (absent), which plain `Option<Option<T>>` deserialization would merge. An absent field
    /// is `None` through `#[serde(default)]`.
    fn deserialize_patch<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Self>, D::Error>;
}

// Not recommended, so that a type that lacks several of the bounds is one error naming this
// trait, rather than one per missing trait.
#[diagnostic::do_not_recommend]
impl<T> EntityField for T
where
    T: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static,
{
    fn clone_field(&self) -> Self {
        self.clone()
    }

    fn clone_patch(patch: &Option<Self>) -> Option<Self> {
        patch.clone()
    }

    fn debug_field(&self) -> &dyn Debug {
        self
    }

    fn debug_patch(patch: &Option<Self>) -> &dyn Debug {
        patch
    }

    fn serialize_field<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize(serializer)
    }

    fn serialize_patch<S: Serializer>(
        patch: &Option<Self>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        patch.serialize(serializer)
    }

    fn deserialize_field<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::deserialize(deserializer)
    }

    fn deserialize_patch<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Self>, D::Error> {
        Self::deserialize(deserializer).map(Some)
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
