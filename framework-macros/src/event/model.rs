//! What `#[event(...)]` may contain, and the model of one event type.

use darling::FromMeta;
use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::{DeriveInput, Generics, Ident, Path, Type};

use crate::shared::attribute::{self, TypeKey};

/// The derive input: any struct or enum, and what its `#[event(...)]` says.
pub(super) struct EventInput {
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    pub(super) options: EventOptions,
}

/// What `#[event(...)]` may contain.
#[derive(FromMeta, Default)]
pub(super) struct EventOptions {
    /// The stored name; the type's ident when absent.
    pub(super) name: Option<SpannedValue<String>>,
    /// The schema version; 1 when absent.
    pub(super) version: Option<SpannedValue<u32>>,
    /// The type holding the previous schema of this event, which stored payloads of older
    /// versions decode into before `From` brings them up to this one.
    pub(super) upcast_from: Option<Type>,
    /// Names it was stored under before a rename.
    pub(super) aliases: Option<Aliases>,
    /// Where the outbox routes it, instead of by aggregate type and name.
    pub(super) route: Option<SpannedValue<String>>,
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
}

/// `aliases("OldName", ...)`: the names an event was stored under before it was renamed.
#[derive(Default)]
pub(super) struct Aliases(pub(super) Vec<syn::LitStr>);

impl FromMeta for Aliases {
    fn from_list(items: &[darling::ast::NestedMeta]) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let mut names = Vec::new();
        for item in items {
            match item {
                darling::ast::NestedMeta::Lit(syn::Lit::Str(name)) => names.push(name.clone()),
                other => errors.push(
                    darling::Error::custom(
                        "write each former stored name as a string, as in \
                         `aliases(\"MoneyDeposited\")`",
                    )
                    .with_span(other),
                ),
            }
        }
        errors.finish_with(Self(names))
    }
}

/// The keys of `#[event(...)]` whose values are types, read as types whatever they are
/// (`upcast_from = legacy::Credited<u32>`).
const TYPE_KEYS: &[TypeKey] = &[TypeKey {
    key: "upcast_from",
    example: "MoneyDepositedV1",
}];

impl EventInput {
    /// Reads the input totally: every mistake goes to `errors`, what could be read is kept.
    pub(super) fn parse(input: &DeriveInput, errors: &mut Accumulator) -> Self {
        Self {
            ident: input.ident.clone(),
            generics: input.generics.clone(),
            options: attribute::options(errors, &input.attrs, "event", TYPE_KEYS).options,
        }
    }
}

/// One event type, validated: everything the impl needs.
pub(super) struct DomainEvent {
    /// The runtime crate as the user's code reaches it.
    pub(super) runtime: Path,
    /// The runtime crate as the impl names it, inside its `const _`.
    pub(super) krate: Path,
    pub(super) ident: Ident,
    pub(super) generics: Generics,
    pub(super) name: String,
    pub(super) version: u32,
    pub(super) upcast_from: Option<Type>,
    /// Former stored names.
    pub(super) aliases: Vec<String>,
    /// The outbox's route, valid.
    pub(super) route: Option<String>,
}
