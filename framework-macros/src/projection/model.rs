//! What `#[projection(...)]` may contain, and the model of one projection.

use darling::FromMeta;
use darling::error::Accumulator;
use syn::{DeriveInput, Generics, Ident, Path, Type, Visibility};

use crate::shared::attribute::{self, Read, TypeKey};
use crate::shared::message_sets::MessageSets;
use crate::shared::rules::{Shape, struct_fields};
use crate::shared::type_list::TypeList;
use crate::shared::values::{Marker, Number, Text};

/// The derive input: the struct, and what its `#[projection(...)]` says.
pub(super) struct ProjectionInput {
    pub(super) ident: Ident,
    pub(super) vis: Visibility,
    pub(super) generics: Generics,
    pub(super) options: Read<ProjectionOptions>,
    /// Whether the struct carries `#[projection(...)]` at all.
    pub(super) has_attribute: bool,
}

/// What `#[projection(...)]` may contain.
///
/// `events` is an `Option` so that its absence is reported in our words, with the fix.
#[derive(FromMeta, Default)]
pub(super) struct ProjectionOptions {
    /// The event types. Required, non-empty.
    pub(super) events: Option<TypeList>,
    /// The aggregates whose events are read; any aggregate's when absent.
    pub(super) aggregates: Option<TypeList>,
    /// What the handlers write through; `()` when absent.
    pub(super) transaction: Option<Type>,
    /// The handlers' error; `BoxError` when absent.
    pub(super) error: Option<Type>,
    /// The name the checkpoint is stored under; the struct's ident when absent.
    pub(super) name: Option<Text>,
    /// `Projection::VERSION`; 1 when absent.
    pub(super) version: Option<Number>,
    /// `OnFailure::DeadLetter` rather than `Stop`.
    pub(super) dead_letter: Marker,
    /// The method that empties the read model.
    pub(super) reset: Option<Ident>,
    /// The method that makes this version the one queries read.
    pub(super) activate: Option<Ident>,
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
}

/// The keys of `#[projection(...)]` whose values are types, read as types whatever they are
/// (`transaction = sqlx::PgConnection`).
const TYPE_KEYS: &[TypeKey] = &[
    TypeKey {
        key: "transaction",
        example: "sqlx::PgConnection",
    },
    TypeKey {
        key: "error",
        example: "ReadModelError",
    },
];

impl ProjectionInput {
    /// Reads the input totally: a wrong shape and every mistake in the attribute go to
    /// `errors`, and what could be read is kept.
    pub(super) fn parse(input: &DeriveInput, errors: &mut Accumulator) -> Self {
        errors.handle(struct_fields(
            input,
            Shape::NamedOrUnit,
            "Projection",
            &format!(
                "hold the read model in named fields, such as `struct {} {{ balances: HashMap<String, u64> }}`",
                input.ident
            ),
        ));
        Self {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            generics: input.generics.clone(),
            options: attribute::options(errors, &input.attrs, "projection", TYPE_KEYS),
            has_attribute: input
                .attrs
                .iter()
                .any(|attr| attr.path().is_ident("projection")),
        }
    }
}

/// One projection: everything the generated code needs. Built whatever the mistakes, with
/// stand-in values for what is missing or wrong; valid when no error was reported.
pub(super) struct Projection {
    /// The runtime crate as the user's code reaches it: `::aggregato`, or `crate = ...`.
    pub(super) runtime: Path,
    /// The runtime crate as the generated impls name it, inside their `const _`.
    pub(super) krate: Path,
    pub(super) ident: Ident,
    /// Whether the struct has generics, which projections cannot have.
    pub(super) generic: bool,
    /// `Projection::NAME`.
    pub(super) name: String,
    /// `Projection::VERSION`.
    pub(super) version: u32,
    /// Whether `Projection::ON_FAILURE` is `DeadLetter`.
    pub(super) dead_letter: bool,
    pub(super) transaction: Type,
    pub(super) error: Type,
    /// The event enum, `{Struct}Event`; its command half is empty.
    pub(super) events: MessageSets,
    /// The types listed in `aggregates(...)`, each once; none when absent.
    pub(super) aggregates: Vec<Path>,
    /// The method `reset` calls.
    pub(super) reset: Option<Ident>,
    /// The method `activate` calls.
    pub(super) activate: Option<Ident>,
}
