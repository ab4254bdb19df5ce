//! What the derives require of the types they are given, each requirement a trait whose
//! `#[diagnostic::on_unimplemented]` says, at the user's type, what to add.
//!
//! Each trait is implemented for every type that meets it, so it costs nothing where it holds.
//! The runtime's traits take them as supertraits (`DomainEvent: EventData`), so a forgotten
//! derive is one error naming the type and the fix, rather than one per missing trait and per
//! place the generated code uses it. The module has a plain name because the compiler prints
//! it in its notes ("required for `Opened` to implement `aggregato::checks::EventData`").
//!
//! Not a public API: anything here may change in any release.

mod entity;
mod projection;

pub use entity::{EntityField, PatchField, WouldBe, differs, rejects, would_be};
pub use projection::{ListedAggregate, ProjectionHook, listed_aggregate_type, projection_hook};

use std::fmt::Debug;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aggregate::Aggregate;
use crate::command::Command;
use crate::entity::{Entity, EntityState};
use crate::event::{DecodeError, DomainEvent, StoredPayload, decode_current};

/// What an event type must be: stored as JSON, cloned into envelopes, logged, shared between
/// threads.
#[diagnostic::on_unimplemented(
    message = "the event `{Self}` must implement `Serialize`, `Deserialize`, `Clone`, `Debug`, `Send` and `Sync`",
    label = "an event is stored as JSON, cloned and logged",
    note = "add `#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]` to `{Self}`; a field that borrows (`&str`) cannot be read back from the store: own its data (`String`)"
)]
pub trait EventData: EventTraits + Send + Sync + 'static {}

impl<T: EventTraits + Send + Sync + 'static> EventData for T {}

/// The traits of [`EventData`] a derive provides, apart from `Send` and `Sync` so that a missing
/// one of those is still reported with the field that lacks it.
#[diagnostic::on_unimplemented(
    message = "the event `{Self}` must implement `Serialize`, `Deserialize`, `Clone`, `Debug`, `Send` and `Sync`",
    label = "an event is stored as JSON, cloned and logged",
    note = "add `#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]` to `{Self}`; a field that borrows (`&str`) cannot be read back from the store: own its data (`String`)"
)]
pub trait EventTraits: Serialize + DeserializeOwned + Clone + Debug {}

// Not recommended: a type that lacks several of the traits is one error in these words.
#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned + Clone + Debug> EventTraits for T {}

/// The check of an event type, spanned at it by `#[derive(DomainEvent)]`, whose impl exists
/// only when this holds: a forgotten derive is this one error.
pub fn event_data<T: EventData>() {}

/// What a command type must be: cloned for a retry after a conflict, logged, sent between
/// threads.
#[diagnostic::on_unimplemented(
    message = "the command `{Self}` must implement `Clone`, `Debug`, `Send` and `Sync`",
    label = "a command is cloned when it is retried after a conflict, and logged",
    note = "add `#[derive(Debug, Clone)]` to `{Self}`"
)]
pub trait CommandData: Clone + Debug + Send + Sync + 'static {}

impl<T: Clone + Debug + Send + Sync + 'static> CommandData for T {}

/// The check of a command type, spanned at it by `#[derive(Command)]`: see [`event_data`].
pub fn command_data<T: CommandData>() {}

/// What the struct holding a saga's data must be: stored as JSON with each step.
#[diagnostic::on_unimplemented(
    message = "the saga `{Self}` must implement `Serialize`, `Deserialize`, `Send` and `Sync`",
    label = "a saga's data is stored as JSON after each step, to resume it after a restart",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to `{Self}`; a field that borrows (`&str`) cannot be read back: own its data (`String`)"
)]
pub trait SagaData: SagaTraits + Send + Sync + 'static {}

impl<T: SagaTraits + Send + Sync + 'static> SagaData for T {}

/// The traits of [`SagaData`] a derive provides, apart from `Send` and `Sync` so that a missing
/// one of those is still reported with the field that lacks it.
#[diagnostic::on_unimplemented(
    message = "the saga `{Self}` must implement `Serialize`, `Deserialize`, `Send` and `Sync`",
    label = "a saga's data is stored as JSON after each step, to resume it after a restart",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to `{Self}`; a field that borrows (`&str`) cannot be read back: own its data (`String`)"
)]
pub trait SagaTraits: Serialize + DeserializeOwned {}

// Not recommended: a type that lacks several of the traits is one error in these words.
#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned> SagaTraits for T {}

/// The check of a saga's struct, spanned at it by `#[derive(Saga)]`: see [`event_data`].
pub fn saga_data<T: SagaData>() {}

/// What the error type of an aggregate or entity (`error = ...`) must be.
#[diagnostic::on_unimplemented(
    message = "the error type `{Self}` must implement `std::error::Error`, `Send` and `Sync`",
    label = "a rejected command returns it inside the repository's error",
    note = "derive it, such as `#[derive(Debug, thiserror::Error)] enum BankError {{ #[error(\"insufficient funds\")] InsufficientFunds }}`; a `String` is not an error type"
)]
pub trait DomainError: std::error::Error + Send + Sync + 'static {}

impl<T: std::error::Error + Send + Sync + 'static> DomainError for T {}

/// What the struct holding an aggregate's state must be.
#[diagnostic::on_unimplemented(
    message = "the aggregate `{Self}` must implement `Send` and `Sync`",
    label = "an aggregate's state is shared between threads",
    note = "hold its state in types that are `Send` and `Sync` (`Arc` rather than `Rc`, `Mutex` rather than `RefCell`)"
)]
pub trait AggregateState: Sized + Send + Sync + 'static {}

impl<T: Send + Sync + 'static> AggregateState for T {}

/// The state before the first event that `#[derive(Aggregate)]` reads from `Default`.
#[diagnostic::on_unimplemented(
    message = "the aggregate `{Self}` must implement `Default`",
    label = "`Default` is the state before the first event",
    note = "add `#[derive(Default)]` to `{Self}`, or `impl Default for {Self}` with the state of an instance that has no events yet"
)]
pub trait InitialState: Default {}

impl<T: Default> InitialState for T {}

/// [`Aggregate::initial_state`] as the derive writes it, spanned at the aggregate's name.
pub fn initial_state<T: InitialState>() -> T {
    T::default()
}

/// A command of the aggregate `A`: one listed in its `commands(...)`, which the generated
/// command enum converts from, or any other type that converts into it.
///
/// Implemented for every type that converts into the command enum, so the user's own types
/// that do are commands too; the impl is not recommended, so an unlisted command is reported
/// in this trait's words rather than as the missing `From` impl of the generated enum.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not in `commands(...)` of `{A}`",
    label = "not a command of `{A}`",
    note = "add `{Self}` to `commands(...)` of `#[aggregate(...)]` (or `#[entity(...)]`) on `{A}`, with its `Handle` impl; or execute it on the aggregate it targets"
)]
pub trait CommandOf<A: Aggregate>: Into<A::Command> {}

// Not recommended: an unlisted command is reported in these words, not as the missing `From`
// impl of the generated enum.
#[diagnostic::do_not_recommend]
impl<A: Aggregate, C: Into<A::Command>> CommandOf<A> for C {}

/// An event of the aggregate `A`: one listed in its `events(...)`, which the generated event
/// enum converts from, or any other type that converts into it: as [`CommandOf`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not in `events(...)` of `{A}`",
    label = "not an event of `{A}`",
    note = "add `{Self}` to `events(...)` of `#[aggregate(...)]` (or `#[entity(...)]`) on `{A}`, with its `Apply` impl"
)]
pub trait EventOf<A: Aggregate>: Into<A::Event> {}

// Not recommended: as `CommandOf`.
#[diagnostic::do_not_recommend]
impl<A: Aggregate, E: Into<A::Event>> EventOf<A> for E {}

/// A type listed in `events(...)`: everything the generated event enum needs of a listed type
/// is read from its one constant [`ListedEvent::EVENT_OPS`], at the listed type's span, so that
/// a type that is not a usable event is one error there (the compiler reports identical errors
/// once), not one per use.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is listed in `events(...)` but is not a usable event",
    label = "listed as an event",
    note = "an event needs `#[derive(aggregato::DomainEvent)]`, and `Serialize`, `Deserialize`, `Clone` and `Debug`; a command goes in `commands(...)`"
)]
pub trait ListedEvent: DomainEvent {
    /// What the event enum does with this event.
    const EVENT_OPS: EventOps<Self> = EventOps {
        event_type: Self::EVENT_TYPE,
        event_version: Self::EVENT_VERSION,
        aliases: Self::EVENT_ALIASES,
        route: Self::EVENT_ROUTE,
        clone: |event| event.clone(),
        debug: |event| event,
        encode: |event| crate::event::to_payload(event),
        payload: |event| crate::event::Payload::encode(event),
        decode: |version, payload| Self::decode_stored(version, payload),
    };
}

impl<E: DomainEvent> ListedEvent for E {}

/// What the generated event enum does with one listed event `E`.
pub struct EventOps<E> {
    /// [`DomainEvent::EVENT_TYPE`].
    pub event_type: &'static str,
    /// [`DomainEvent::EVENT_VERSION`].
    pub event_version: u32,
    /// [`DomainEvent::EVENT_ALIASES`].
    pub aliases: &'static [&'static str],
    /// [`DomainEvent::EVENT_ROUTE`].
    pub route: Option<&'static str>,
    /// `Clone`.
    pub clone: fn(&E) -> E,
    /// `Debug`.
    pub debug: fn(&E) -> &dyn Debug,
    /// The stored payload.
    pub encode: fn(&E) -> Result<serde_json::Value, serde_json::Error>,
    /// [`Payload::encode`](crate::event::Payload::encode): the text an append carries.
    pub payload: fn(&E) -> Result<crate::event::Payload, serde_json::Error>,
    /// [`DomainEvent::decode_stored`].
    pub decode: for<'a> fn(u32, StoredPayload<'a>) -> Result<E, DecodeError>,
}

/// A type listed in `commands(...)`: as [`ListedEvent`], for commands. `T` is the aggregate
/// the command targets, which the check that it is the listing one reads.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is listed in `commands(...)` but is not a usable command",
    label = "listed as a command",
    note = "a command needs `#[derive(aggregato::Command)]` with `#[command(aggregate = ...)]`, and `Clone` and `Debug`; an event goes in `events(...)`"
)]
pub trait ListedCommand: Command {
    /// What the command enum does with this command.
    const COMMAND_OPS: CommandOps<Self, Self::Aggregate> = CommandOps {
        clone: |command| command.clone(),
        debug: |command| command,
        target: PhantomData,
    };
}

impl<C: Command> ListedCommand for C {}

/// What the generated command enum does with one listed command `C` of the aggregate `T`.
pub struct CommandOps<C, T> {
    /// `Clone`.
    pub clone: fn(&C) -> C,
    /// `Debug`.
    pub debug: fn(&C) -> &dyn Debug,
    /// The aggregate `C` targets.
    pub target: PhantomData<fn() -> T>,
}

/// The check that a command listed by the aggregate `A` targets it.
pub const fn listed_by<A, C, T: SameAggregate<A, C>>(_: &CommandOps<C, T>) {}

/// The check that a command listed by the entity `E` targets it.
pub const fn listed_by_entity<E, C, T: SameEntity<E, C>>(_: &CommandOps<C, T>) {}

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

/// How a generated Deleted event decodes: it carries nothing, so whatever version up to its
/// own stored it reads as one (a newer one is unsupported, as for any event).
pub fn decode_deletion<T: DomainEvent>(
    stored_version: u32,
    deletion: fn() -> T,
) -> Result<T, DecodeError> {
    if stored_version > T::EVENT_VERSION {
        return Err(DecodeError::unsupported_version::<T>(stored_version));
    }
    Ok(deletion())
}

/// A command listed in `commands(...)` of the aggregate `A` must target it: implemented by `A`
/// alone, and required of the command's target.
#[diagnostic::on_unimplemented(
    message = "`{C}` is listed in `commands(...)` of `{A}` but targets `{Self}`",
    label = "a command of `{Self}`, not of `{A}`",
    note = "write `#[command(aggregate = {A})]` on `{C}`, or remove `{C}` from `commands(...)`"
)]
pub trait SameAggregate<A, C> {}

impl<A, C> SameAggregate<A, C> for A {}

/// A command listed in `commands(...)` of the entity `E` must target it: as [`SameAggregate`],
/// for the aggregate `EntityState<E>`.
#[diagnostic::on_unimplemented(
    message = "`{C}` is listed in `commands(...)` of the entity `{E}` but targets `{Self}`",
    label = "a command of `{Self}`, not of `EntityState<{E}>`",
    note = "write `#[command(entity = {E})]` on `{C}`, or remove `{C}` from `commands(...)`"
)]
pub trait SameEntity<E, C> {}

impl<E: Entity, C> SameEntity<E, C> for EntityState<E> {}

/// Whether a rule checked at compile time holds, as a type: each rule is a trait implemented
/// for `Rule<true>` only, so that a broken one is reported as an unmet bound with the rule's
/// own message (a const `assert!` could only say "evaluation of `_` failed").
pub struct Rule<const HOLDS: bool>;

/// The stored versions of an event enum's events, in the order of `EventSet::EVENT_TYPES`.
pub trait EventVersions {
    /// One version per listed event.
    const EVENT_VERSIONS: &'static [u32];
}

/// The `J`th listed event of an event enum, so that a check can name it.
pub trait NthEvent<const J: usize> {
    /// The event type.
    type Event;
}

/// The first event before `index` stored under the name of the one at `index`, or `index`
/// itself when there is none.
pub const fn name_clash(names: &[&str], index: usize) -> usize {
    let mut earlier = 0;
    while earlier < index && index < names.len() {
        if crate::__private::str_eq(names[earlier], names[index]) {
            return earlier;
        }
        earlier += 1;
    }
    index
}

/// How the event at `index` compares with the first earlier one of the same stored name: `0`
/// none, `1` same version, `2` the earlier one is older, `3` the earlier one is newer.
pub const fn name_verdict(names: &[&str], versions: &[u32], index: usize) -> u8 {
    let earlier = name_clash(names, index);
    if earlier == index || index >= versions.len() {
        0
    } else if versions[earlier] == versions[index] {
        1
    } else if versions[earlier] < versions[index] {
        2
    } else {
        3
    }
}

/// Two listed events with one stored name and version cannot be told apart.
#[diagnostic::on_unimplemented(
    message = "`{E}` in `events(...)` shares its stored name and version with `{Earlier}`",
    label = "stored exactly as `{Earlier}`, so neither could be read back for sure",
    note = "give one of them `#[event(name = \"...\")]`; or, if one is a later schema of the other, give it a higher `version` and `upcast_from = ...`, and list only it"
)]
pub trait NotSameEvent<E, Earlier> {}

/// An older schema listed after its newer one.
#[diagnostic::on_unimplemented(
    message = "remove `{E}` from `events(...)`: `{Earlier}` is a later schema of it and reads it through `upcast_from`",
    label = "an older schema of `{Earlier}` (same stored name, lower version)",
    note = "an aggregate lists only the latest schema of an event; `#[event(upcast_from = {E})]` on `{Earlier}` (add it if it is missing) reads the events stored under the older version"
)]
pub trait NotOlderSchema<E, Earlier> {}

/// A newer schema listed after its older one.
#[diagnostic::on_unimplemented(
    message = "remove `{Earlier}` from `events(...)`: `{E}` reads it through `upcast_from`",
    label = "a later schema of `{Earlier}` (same stored name, higher version)",
    note = "an aggregate lists only the latest schema of an event; `#[event(upcast_from = {Earlier})]` on `{E}` (add it if it is missing) reads the events stored under the older version"
)]
pub trait NotNewerSchema<E, Earlier> {}

impl<E, Earlier> NotSameEvent<E, Earlier> for Rule<true> {}
impl<E, Earlier> NotOlderSchema<E, Earlier> for Rule<true> {}
impl<E, Earlier> NotNewerSchema<E, Earlier> for Rule<true> {}

/// The check that the listed event `E` has a stored name of its own among the events listed
/// before it; `Earlier` is the first of them with the same name, and the rules are read from
/// the [`name_verdict`].
pub fn stored_name_is_free<E, Earlier, Same, Older, Newer>()
where
    Same: NotSameEvent<E, Earlier>,
    Older: NotOlderSchema<E, Earlier>,
    Newer: NotNewerSchema<E, Earlier>,
{
}

/// How the older schema `older` of an event compares with it: `0` fine, `1` another stored
/// name, `2` a version that is not lower.
pub const fn upcast_verdict(older: (&str, u32), newer: (&str, u32)) -> u8 {
    if !crate::__private::str_eq(older.0, newer.0) {
        1
    } else if older.1 >= newer.1 {
        2
    } else {
        0
    }
}

/// `upcast_from = O` names an older schema of the same stored event.
#[diagnostic::on_unimplemented(
    message = "`{O}` (the `upcast_from` of `{E}`) must be stored under the same name as `{E}`",
    label = "stored under another name than `{E}`",
    note = "give both the same `#[event(name = \"...\")]`"
)]
pub trait UpcastSameName<E, O> {}

/// `upcast_from = O` names an older version.
#[diagnostic::on_unimplemented(
    message = "`{O}` (the `upcast_from` of `{E}`) must have a lower version than `{E}`",
    label = "not an older version of `{E}`",
    note = "lower the `version` of `{O}`, or raise the `version` of `{E}`"
)]
pub trait UpcastOlderVersion<E, O> {}

impl<E, O> UpcastSameName<E, O> for Rule<true> {}
impl<E, O> UpcastOlderVersion<E, O> for Rule<true> {}

/// The check that `O`, the `upcast_from` of `E`, is an older version of the same stored event;
/// the rules are read from the [`upcast_verdict`].
pub fn upcasts_from<E, O, SameName, OlderVersion>()
where
    SameName: UpcastSameName<E, O>,
    OlderVersion: UpcastOlderVersion<E, O>,
{
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_earlier_event_of_a_name_is_found() {
        const NAMES: &[&str] = &["Opened", "Deposited", "Opened", "Deposited"];
        assert_eq!(name_clash(NAMES, 0), 0, "nothing before the first");
        assert_eq!(name_clash(NAMES, 1), 1, "a name of its own");
        assert_eq!(name_clash(NAMES, 2), 0);
        assert_eq!(name_clash(NAMES, 3), 1);
    }

    #[test]
    fn the_verdict_says_which_schema_is_older() {
        const NAMES: &[&str] = &["Deposited", "Opened", "Deposited"];
        assert_eq!(name_verdict(NAMES, &[1, 1, 2], 1), 0);
        assert_eq!(name_verdict(NAMES, &[1, 1, 1], 2), 1, "same version");
        assert_eq!(
            name_verdict(NAMES, &[1, 1, 2], 2),
            2,
            "the earlier is older"
        );
        assert_eq!(
            name_verdict(NAMES, &[3, 1, 2], 2),
            3,
            "the earlier is newer"
        );
    }

    #[test]
    fn an_upcast_source_is_an_older_version_of_the_same_name() {
        assert_eq!(upcast_verdict(("Deposited", 1), ("Deposited", 2)), 0);
        assert_eq!(upcast_verdict(("Credited", 1), ("Deposited", 2)), 1);
        assert_eq!(upcast_verdict(("Deposited", 2), ("Deposited", 2)), 2);
    }
}
