//! What `#[aggregate(...)]` may contain, and the validated model of one aggregate.

use darling::FromMeta;
use darling::util::SpannedValue;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    Data, DataStruct, DeriveInput, Fields, Generics, Ident, LitStr, Meta, MetaList, Path, Token,
    Type, Visibility,
};

use crate::attribute::{self, TypeKey};
use crate::validate::{display_path, error_at};

/// The derive input: the struct, and what its `#[aggregate(...)]` says.
///
/// The shape (a struct with named fields or a unit struct) is checked by [`check_shape`]
/// rather than darling's `supports(...)`, whose error points at the derive and does not say
/// what to write instead.
pub(crate) struct AggregateInput {
    pub(super) ident: Ident,
    pub(super) vis: Visibility,
    pub(super) generics: Generics,
    pub(super) options: AggregateOptions,
    /// Whether the struct carries `#[aggregate(...)]` at all.
    pub(super) has_attribute: bool,
}

/// What `#[aggregate(...)]` may contain.
///
/// Required keys are `Option`s so that their absence is reported in our words, with the fix.
#[derive(FromMeta)]
pub(crate) struct AggregateOptions {
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
pub(crate) const TYPE_KEYS: &[TypeKey] = &[
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
    /// Reads the input, reporting a wrong shape together with any mistake in the attribute.
    pub(super) fn parse(input: &DeriveInput) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        errors.handle(check_shape(input));
        let options = errors.handle(attribute::options(&input.attrs, "aggregate", TYPE_KEYS));
        let options = crate::validate::finish(errors, options)?;
        Ok(Self {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            generics: input.generics.clone(),
            options,
            has_attribute: input
                .attrs
                .iter()
                .any(|attr| attr.path().is_ident("aggregate")),
        })
    }
}

/// The aggregate's state must be a struct with named fields, or a unit struct.
fn check_shape(input: &DeriveInput) -> darling::Result<()> {
    let ident = &input.ident;
    let (span, found) = match &input.data {
        Data::Struct(DataStruct {
            fields: Fields::Named(_) | Fields::Unit,
            ..
        }) => return Ok(()),
        Data::Struct(DataStruct {
            fields: Fields::Unnamed(fields),
            ..
        }) => (fields.paren_token.span.join(), "a tuple struct"),
        Data::Enum(data) => (data.enum_token.span, "an enum"),
        Data::Union(data) => (data.union_token.span, "a union"),
    };
    Err(error_at(
        span,
        format!(
            "`#[derive(Aggregate)]` needs a struct with named fields, or a unit struct, but \
             `{ident}` is {found}: hold the aggregate's state in named fields, such as \
             `struct {ident} {{ balance: u64 }}`"
        ),
    ))
}

/// A list of types, such as `events(AccountOpened, MoneyDeposited)`: the list as written (for
/// error spans) and its entries.
pub(crate) struct TypeList {
    pub(crate) list: MetaList,
    pub(crate) entries: Vec<Path>,
}

impl FromMeta for TypeList {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        let Meta::List(list) = item else {
            let key = display_path(item.path());
            return Err(darling::Error::custom(format!(
                "write `{key}` as a list of types: `{key}(FirstType, SecondType)`"
            ))
            .with_span(item));
        };
        let parsed = list.parse_args_with(Punctuated::<Entry, Token![,]>::parse_terminated)?;
        let mut errors = darling::Error::accumulator();
        let mut entries = Vec::new();
        for entry in parsed {
            match entry {
                Entry::Type(path) => entries.push(path),
                Entry::Quoted(text) => errors.push(error_at(
                    text.span(),
                    format!(
                        "`{}(...)` lists types, not strings: remove the quotes, `{}`",
                        display_path(&list.path),
                        text.value()
                    ),
                )),
            }
        }
        errors.finish_with(TypeList {
            list: list.clone(),
            entries,
        })
    }
}

/// One entry of a type list: a type path (`MoneyDeposited`, `bank::Opened`, `Recorded<u8>`),
/// or the common mistake of a quoted one, read so that it can be reported with the fix.
pub(crate) enum Entry {
    Type(Path),
    Quoted(LitStr),
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            input.parse().map(Self::Quoted)
        } else {
            input.parse().map(Self::Type)
        }
    }
}

/// One aggregate, validated: everything the generated code needs.
pub(crate) struct Aggregate {
    pub(crate) krate: Path,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    /// `Aggregate::AGGREGATE_TYPE`.
    pub(crate) type_name: String,
    pub(crate) id: Type,
    pub(crate) error: Type,
    pub(crate) services: Type,
    pub(crate) event_enum: Ident,
    pub(crate) command_enum: Ident,
    pub(crate) events: Vec<Member>,
    pub(crate) commands: Vec<Member>,
}

/// One type listed in `events(...)` or `commands(...)`, and the enum variant that wraps it.
pub(crate) struct Member {
    /// The type as the user wrote it; its span is where errors about it point.
    pub(crate) ty: Path,
    /// The variant: the last segment of `ty`.
    pub(crate) variant: Ident,
}
