//! What `#[aggregate(...)]` may contain, and the model of one aggregate.

use darling::FromMeta;
use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::{DeriveInput, Generics, Ident, Path, Type, Visibility};

use crate::shared::attribute::{self, Read, TypeKey};
use crate::shared::message_sets::MessageSets;
use crate::shared::rules::{Shape, struct_fields};
use crate::shared::type_list::TypeList;

/// The derive input: the struct, and what its `#[aggregate(...)]` says.
///
/// The shape (a struct with named fields or a unit struct) is checked by
/// [`struct_fields`] rather than darling's `supports(...)`, whose error points at the derive
/// and does not say what to write instead.
pub(super) struct AggregateInput {
    pub(super) ident: Ident,
    pub(super) vis: Visibility,
    pub(super) generics: Generics,
    pub(super) options: Read<AggregateOptions>,
    /// Whether the struct carries `#[aggregate(...)]` at all.
    pub(super) has_attribute: bool,
}

/// What `#[aggregate(...)]` may contain.
///
/// Required keys are `Option`s so that their absence is reported in our words, with the fix.
#[derive(FromMeta, Default)]
pub(super) struct AggregateOptions {
    /// The identity type of one instance. Required.
    pub(super) id: Option<Type>,
    /// The domain error; `Infallible` when absent.
    pub(super) error: Option<Type>,
    /// The services handed to command handlers; `()` when absent.
    pub(super) services: Option<Type>,
    /// The stored aggregate type name; the struct's ident when absent.
    pub(super) name: Option<SpannedValue<String>>,
    /// The event types. Required, non-empty.
    pub(super) events: Option<TypeList>,
    /// The command types. Required, non-empty.
    pub(super) commands: Option<TypeList>,
    /// `Aggregate::SNAPSHOT_VERSION`; the runtime's default (1) when absent.
    pub(super) snapshot_version: Option<SpannedValue<u32>>,
    /// The function returning the state before the first event; `Default` when absent.
    pub(super) initial: Option<Path>,
    /// The generated event enum's name; `{Struct}Event` when absent.
    pub(super) event_enum: Option<Ident>,
    /// The generated command enum's name; `{Struct}Command` when absent.
    pub(super) command_enum: Option<Ident>,
    /// The runtime crate's path.
    #[darling(rename = "crate")]
    pub(super) krate: Option<Path>,
}

/// The keys of `#[aggregate(...)]` whose values are types, read as types whatever they are
/// (`services = Arc<dyn Clock + Send + Sync>`).
const TYPE_KEYS: &[TypeKey] = &[
    TypeKey {
        key: "id",
        example: "AccountId",
    },
    TypeKey {
        key: "error",
        example: "BankError",
    },
    TypeKey {
        key: "services",
        example: "Arc<RiskServices>",
    },
];

impl AggregateInput {
    /// Reads the input totally: a wrong shape and every mistake in the attribute go to
    /// `errors`, and what could be read is kept.
    pub(super) fn parse(input: &DeriveInput, errors: &mut Accumulator) -> Self {
        errors.handle(struct_fields(
            input,
            Shape::NamedOrUnit,
            "Aggregate",
            &format!(
                "hold the aggregate's state in named fields, such as `struct {} {{ balance: u64 }}`",
                input.ident
            ),
        ));
        Self {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            generics: input.generics.clone(),
            options: attribute::options(errors, &input.attrs, "aggregate", TYPE_KEYS),
            has_attribute: input
                .attrs
                .iter()
                .any(|attr| attr.path().is_ident("aggregate")),
        }
    }
}

/// One aggregate: everything the generated code needs. Built whatever the mistakes, with
/// stand-in values for what is missing or wrong; valid when no error was reported.
pub(super) struct Aggregate {
    /// The runtime crate as the user's code reaches it: `::aggregato`, or `crate = ...`.
    pub(super) runtime: Path,
    /// The runtime crate as the generated impls name it, inside their `const _`.
    pub(super) krate: Path,
    pub(super) ident: Ident,
    /// Whether the struct has generics, which aggregates cannot have yet.
    pub(super) generic: bool,
    /// `Aggregate::AGGREGATE_TYPE`.
    pub(super) type_name: String,
    /// `Aggregate::SNAPSHOT_VERSION` when given.
    pub(super) snapshot_version: Option<u32>,
    /// The function `Aggregate::initial_state` calls; `Default` when absent.
    pub(super) initial: Option<Path>,
    pub(super) id: Type,
    pub(super) error: Type,
    pub(super) services: Type,
    /// The event and command enums.
    pub(super) sets: MessageSets,
}
