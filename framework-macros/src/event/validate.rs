//! The rules of `#[event(...)]` that darling cannot express.

use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, GenericArgument, Generics, Ident, PathArguments, Type};

use super::model::{DomainEvent, EventInput, EventOptions};
use crate::shared::diagnostics::error_at;
use crate::shared::dummy::local_crate;
use crate::shared::paths::runtime_crate;
use crate::shared::rules::version;

/// Checks the stored name, the version, the aliases and the route, reporting every mistake at
/// once.
pub(super) fn validate(input: EventInput, errors: &mut Accumulator) -> DomainEvent {
    let EventInput {
        ident,
        generics,
        options,
    } = input;
    if let Some(name) = &options.name {
        errors.handle(crate::shared::rules::stored_name(
            name,
            "event",
            "MoneyDeposited",
        ));
    }
    let version = version(errors, options.version.as_ref());
    if let Some(older) = &options.upcast_from {
        errors.handle(upcast_is_possible(&ident, &generics, &options, older));
    }
    let name = options
        .name
        .as_ref()
        .map_or_else(|| ident.to_string(), |name| name.as_str().to_owned());
    let mut aliases = Vec::new();
    for alias in options.aliases.iter().flat_map(|aliases| &aliases.0) {
        let value = alias.value();
        if value.is_empty() || value == name || aliases.contains(&value) {
            errors.push(crate::shared::diagnostics::error_at(
                alias.span(),
                format!(
                    "`{value}` cannot be a former name of `{name}`: an alias is a name the event \
                     was stored under before, non-empty, listed once, other than its name now"
                ),
            ));
            continue;
        }
        aliases.push(value);
    }
    let route = options
        .route
        .filter(|route| errors.handle(valid_route(route)).is_some())
        .map(SpannedValue::into_inner);
    DomainEvent {
        aliases,
        route,
        runtime: runtime_crate(options.krate),
        krate: local_crate(),
        name: options
            .name
            .map_or_else(|| ident.to_string(), SpannedValue::into_inner),
        version,
        upcast_from: options.upcast_from,
        ident,
        generics,
    }
}

/// `upcast_from` needs a version above the first, and a concrete event type.
fn upcast_is_possible(
    ident: &Ident,
    generics: &Generics,
    options: &EventOptions,
    older: &Type,
) -> darling::Result<()> {
    let older_name = crate::shared::diagnostics::display_tokens(older);
    if !generics.params.is_empty() {
        return Err(error_at(
            older.span(),
            format!(
                "`upcast_from` is not supported on generic events: make `{ident}` concrete, or \
                 remove `upcast_from = {older_name}`"
            ),
        ));
    }
    if options.version.is_none_or(|version| *version < 2) {
        return Err(error_at(
            older.span(),
            format!(
                "`upcast_from = {older_name}` means `{ident}` is a later schema: give it its \
                 version, such as `version = 2`, above the version of `{older_name}`"
            ),
        ));
    }
    Ok(())
}

/// The longest route: Kafka's limit on a topic name, the shortest of the three brokers'.
const MAX_ROUTE_LEN: usize = 249;

/// A route must be something NATS (a subject under the prefix), RabbitMQ (a topic routing key)
/// and Kafka (a topic) all carry as it is: words of ASCII letters, digits, `_` and `-`
/// separated by single dots, at most 249 characters.
fn valid_route(route: &SpannedValue<String>) -> darling::Result<()> {
    const SHAPE: &str = "a route is words of ASCII letters, digits, `_` and `-` separated by \
                         single dots, such as `route = \"payments.settled\"`, so that NATS \
                         subjects, RabbitMQ routing keys and Kafka topics all carry it";
    let text = route.as_str();
    let problem = if text.is_empty() {
        Some(format!(
            "the route is empty: {SHAPE}; or remove `route` to route by aggregate type and \
             event name"
        ))
    } else if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        Some(format!(
            "the route `{text}` contains {}: {SHAPE}",
            describe_char(bad)
        ))
    } else if text.split('.').any(str::is_empty) {
        Some(format!(
            "the route `{text}` has an empty word (a leading, trailing or doubled `.`): {SHAPE}"
        ))
    } else if text.len() > MAX_ROUTE_LEN {
        Some(format!(
            "the route is {} characters long, more than the {MAX_ROUTE_LEN} a Kafka topic may \
             have: shorten it",
            text.len()
        ))
    } else {
        None
    };
    match problem {
        Some(message) => Err(error_at(route.span(), message)),
        None => Ok(()),
    }
}

/// A character as a message names it: whitespace by name, the rest quoted.
fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        c if c.is_whitespace() => format!("the whitespace {c:?}"),
        c => format!("`{c}`"),
    }
}

/// No field may borrow: an event is read back from the store, so it must own its data. The
/// compiler would only say, at every use of the event, that `Deserialize` "is not general
/// enough"; this is one error at the borrow.
pub(super) fn owned_fields(input: &DeriveInput, errors: &mut Accumulator) {
    let fields: Vec<&Fields> = match &input.data {
        Data::Struct(data) => vec![&data.fields],
        Data::Enum(data) => data
            .variants
            .iter()
            .map(|variant| &variant.fields)
            .collect(),
        Data::Union(_) => Vec::new(),
    };
    for (index, field) in fields.into_iter().flatten().enumerate() {
        let Some(reference) = borrow_in(&field.ty) else {
            continue;
        };
        let name = field
            .ident
            .as_ref()
            .map_or_else(|| format!("field {index}"), |ident| format!("`{ident}`"));
        errors.push(error_at(
            reference.and_token.span,
            format!(
                "{name} of `{}` borrows, but an event is stored as JSON and read back from the \
                 store, which a borrow cannot be: own the data (`String` for `&str`, `Vec<T>` \
                 for `&[T]`)",
                input.ident
            ),
        ));
    }
}

/// The first reference in `ty`, looking into generic arguments, tuples, arrays and slices
/// (`Option<&str>` borrows as much as `&str`).
fn borrow_in(ty: &Type) -> Option<&syn::TypeReference> {
    match ty {
        Type::Reference(reference) => Some(reference),
        Type::Paren(inner) => borrow_in(&inner.elem),
        Type::Group(inner) => borrow_in(&inner.elem),
        Type::Array(inner) => borrow_in(&inner.elem),
        Type::Slice(inner) => borrow_in(&inner.elem),
        Type::Tuple(tuple) => tuple.elems.iter().find_map(borrow_in),
        Type::Path(path) => path.path.segments.iter().find_map(|segment| {
            let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
                return None;
            };
            arguments.args.iter().find_map(|argument| match argument {
                GenericArgument::Type(ty) => borrow_in(ty),
                _ => None,
            })
        }),
        _ => None,
    }
}
