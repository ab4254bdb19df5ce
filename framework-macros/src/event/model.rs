//! What `#[event(...)]` may contain, and the validated model of one event type.

use darling::FromDeriveInput;
use darling::util::SpannedValue;
use syn::{DeriveInput, Generics, Ident, Path};

/// The derive input as darling reads it: any struct or enum, with `#[event(...)]`.
#[derive(FromDeriveInput)]
#[darling(attributes(event))]
pub(super) struct EventInput {
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    /// The stored name; the type's ident when absent.
    pub(super) name: Option<SpannedValue<String>>,
    /// The schema version; 1 when absent.
    pub(super) version: Option<SpannedValue<u32>>,
    /// The type holding the previous schema of this event, which stored payloads of older
    /// versions decode into before `From` brings them up to this one.
    pub(super) upcast_from: Option<Path>,
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
}

impl EventInput {
    pub(super) fn parse(input: &DeriveInput) -> darling::Result<Self> {
        Self::from_derive_input(input)
    }
}

/// One event type, validated: everything the impl needs.
pub(super) struct DomainEvent {
    pub(super) krate: Path,
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    pub(super) name: String,
    pub(super) version: u32,
    pub(super) upcast_from: Option<Path>,
}
