//! What `#[command(...)]` may contain, and the model of one command type.

use darling::FromMeta;
use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::{DeriveInput, Generics, Ident, Path, Type};

use crate::shared::attribute::{self, Read, TypeKey};

/// The derive input: the type, and what its `#[command(...)]` says.
pub(super) struct CommandInput {
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    pub(super) options: Read<CommandOptions>,
}

/// What `#[command(...)]` may contain.
#[derive(FromMeta, Default)]
pub(super) struct CommandOptions {
    /// The aggregate the command targets. Required; optional here so that its absence is
    /// reported in our words.
    pub(super) aggregate: Option<Type>,
    /// The `#[derive(Entity)]` struct the command is added to: it targets the aggregate
    /// `EntityState<Entity>`, so `entity = Product` is short for
    /// `aggregate = aggregato::entity::EntityState<Product>`.
    pub(super) entity: Option<Type>,
    /// The command's name for logs; the type's ident when absent.
    pub(super) name: Option<SpannedValue<String>>,
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
}

/// The keys of `#[command(...)]` whose values are types, read as types whatever they are
/// (`aggregate = EntityState<Product>`).
const TYPE_KEYS: &[TypeKey] = &[
    TypeKey {
        key: "aggregate",
        example: "BankAccount",
    },
    TypeKey {
        key: "entity",
        example: "Product",
    },
];

impl CommandInput {
    /// Reads the input totally: every mistake goes to `errors`, what could be read is kept.
    pub(super) fn parse(input: &DeriveInput, errors: &mut Accumulator) -> Self {
        Self {
            ident: input.ident.clone(),
            generics: input.generics.clone(),
            options: attribute::options(errors, &input.attrs, "command", TYPE_KEYS),
        }
    }
}

/// One command type, validated: everything the impl needs.
pub(super) struct Command {
    /// The runtime crate as the user's code reaches it.
    pub(super) runtime: Path,
    /// The runtime crate as the impl names it, inside its `const _`.
    pub(super) krate: Path,
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    /// The target, or `None` when it is missing or named twice (an error was reported).
    pub(super) aggregate: Option<Type>,
    pub(super) name: String,
}
