//! What `#[command(...)]` may contain, and the validated model of one command type.

use darling::FromDeriveInput;
use darling::util::SpannedValue;
use syn::{DeriveInput, Generics, Ident, Path, Type};

/// The derive input as darling reads it: any struct or enum, with `#[command(...)]`.
#[derive(FromDeriveInput)]
#[darling(attributes(command))]
pub(super) struct CommandInput {
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    /// The aggregate the command targets. Required; optional here so that its absence is
    /// reported in our words.
    pub(super) aggregate: Option<Type>,
    /// The `#[derive(Entity)]` struct the command is added to: it targets the aggregate
    /// `EntityState<Entity>`, which an attribute cannot spell unquoted.
    pub(super) entity: Option<Type>,
    /// The command's name for logs; the type's ident when absent.
    pub(super) name: Option<SpannedValue<String>>,
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
}

impl CommandInput {
    pub(super) fn parse(input: &DeriveInput) -> darling::Result<Self> {
        Self::from_derive_input(input)
    }
}

/// One command type, validated: everything the impl needs.
pub(super) struct Command {
    pub(super) krate: Path,
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    pub(super) aggregate: Type,
    pub(super) name: String,
}
