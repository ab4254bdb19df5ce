//! What `#[event(...)]` may contain, and the validated model of one event type.

use darling::FromMeta;
use darling::util::SpannedValue;
use syn::{DeriveInput, Generics, Ident, Path, Type};

use crate::attribute::{self, TypeKey};

/// The derive input: any struct or enum, and what its `#[event(...)]` says.
pub(super) struct EventInput {
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    pub(super) options: EventOptions,
}

/// What `#[event(...)]` may contain.
#[derive(FromMeta)]
pub(super) struct EventOptions {
    /// The stored name; the type's ident when absent.
    pub(super) name: Option<SpannedValue<String>>,
    /// The schema version; 1 when absent.
    pub(super) version: Option<SpannedValue<u32>>,
    /// The type holding the previous schema of this event, which stored payloads of older
    /// versions decode into before `From` brings them up to this one.
    pub(super) upcast_from: Option<Type>,
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
}

/// The keys of `#[event(...)]` whose values are types, read as types whatever they are
/// (`upcast_from = legacy::Credited<u32>`).
const TYPE_KEYS: &[TypeKey] = &[TypeKey {
    key: "upcast_from",
    example: "MoneyDepositedV1",
}];

impl EventInput {
    pub(super) fn parse(input: &DeriveInput) -> darling::Result<Self> {
        Ok(Self {
            ident: input.ident.clone(),
            generics: input.generics.clone(),
            options: attribute::options(&input.attrs, "event", TYPE_KEYS)?,
        })
    }
}

/// One event type, validated: everything the impl needs.
pub(super) struct DomainEvent {
    pub(super) krate: Path,
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    pub(super) name: String,
    pub(super) version: u32,
    pub(super) upcast_from: Option<Type>,
}
