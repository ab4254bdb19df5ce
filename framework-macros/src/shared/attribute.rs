//! Reading a derive's own attribute (`#[aggregate(...)]`, `#[entity(...)]`, ...) into the
//! darling options of that derive, with the keys that name a type read as types.
//!
//! darling reads `key = value` as an expression, and most types are not one:
//! `services = Arc<Clock>` reads as a chain of comparisons, and the comma inside
//! `Services<'static, u8>` ends the value early. So the items of the attribute are read here:
//! the value of a key listed as a [`TypeKey`] as a [`syn::Type`], every other item as darling
//! reads it. darling's derived `FromMeta::from_list` then does the rest (unknown keys with a
//! "did you mean", duplicates, the values of the other keys), as it would have; and when it
//! finds a mistake, the options are still built from the rest, so that the derive can emit its
//! stand-ins from the one model.

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::error::Accumulator;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Attribute, Expr, Ident, LitStr, Meta, MetaNameValue, Path, Token, Type};

use super::diagnostics::display_path;

/// A key whose value is a type, and an example of one for messages.
pub(crate) struct TypeKey {
    pub(crate) key: &'static str,
    pub(crate) example: &'static str,
}

/// What an attribute says, read totally: every key that could be read, and the keys that were
/// written but could not be.
pub(crate) struct Read<T> {
    pub(crate) options: T,
    broken: Vec<String>,
    clean: bool,
}

impl<T> Read<T> {
    /// Whether the attribute was read without a mistake. When it was not, a required key that
    /// seems absent may be the misspelled one, so its absence is not reported as well.
    pub(crate) fn is_clean(&self) -> bool {
        self.clean
    }

    /// Whether `key` was written with a value that could not be read: the model then uses a
    /// stand-in value instead of the key's default, which the user did not ask for.
    pub(crate) fn is_broken(&self, key: &str) -> bool {
        self.broken.iter().any(|broken| broken == key)
    }
}

/// Reads every `#[name(...)]` of `attrs` into `T`, as serde reads its attributes: totally.
/// Every mistake (where an attribute stops being readable, an unknown or repeated key, a value
/// of the wrong kind) is pushed to `errors`, and `T` is still built from the items darling
/// accepts on their own, the first of each key, as if the others were not written.
pub(crate) fn options<T: FromMeta + Default>(
    errors: &mut Accumulator,
    attrs: &[Attribute],
    name: &str,
    type_keys: &[TypeKey],
) -> Read<T> {
    let mut unreadable = darling::Error::accumulator();
    let items = readable_items(&mut unreadable, attrs, name, type_keys);
    let clean = match unreadable.finish() {
        Ok(()) => true,
        Err(error) => {
            errors.push(error);
            false
        }
    };
    from_items(errors, items, clean)
}

/// `T` from items already read (such as the arguments of an attribute macro), totally: a
/// mistake is pushed to `errors` and `T` is built from the items darling accepts on their own.
/// `clean` says whether the items were read whole.
pub(crate) fn from_items<T: FromMeta + Default>(
    errors: &mut Accumulator,
    items: Vec<NestedMeta>,
    clean: bool,
) -> Read<T> {
    match T::from_list(&items) {
        Ok(options) => Read {
            options,
            broken: Vec::new(),
            clean,
        },
        Err(error) => {
            errors.push(error);
            best_effort(items)
        }
    }
}

/// `T` from the items that darling accepts on their own, the first of each key.
fn best_effort<T: FromMeta + Default>(items: Vec<NestedMeta>) -> Read<T> {
    let mut seen: Vec<String> = Vec::new();
    let mut broken = Vec::new();
    let mut kept = Vec::new();
    for item in items {
        let key = item_key(&item).map(display_path).unwrap_or_default();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key.clone());
        if T::from_list(std::slice::from_ref(&item)).is_ok() {
            kept.push(item);
        } else {
            broken.push(key);
        }
    }
    Read {
        options: T::from_list(&kept).unwrap_or_default(),
        broken,
        clean: false,
    }
}

/// The items that can be read; an error where an attribute stops being readable.
fn readable_items(
    errors: &mut Accumulator,
    attrs: &[Attribute],
    name: &str,
    type_keys: &[TypeKey],
) -> Vec<NestedMeta> {
    let mut items = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(name)) {
        let list = match darling::util::parse_attribute_to_meta_list(attr) {
            Ok(list) => list,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        // Scoped to the list, so that a value cut short is reported at its closing `)`.
        let read = list.parse_args_with(|input: ParseStream<'_>| {
            while !input.is_empty() {
                items.push(item(input, type_keys)?);
                if input.is_empty() {
                    break;
                }
                input.parse::<Token![,]>()?;
            }
            Ok(())
        });
        if let Err(error) = read {
            errors.push(error.into());
        }
    }
    items
}

/// The key an item names: `id` of `id = u64`, `events` of `events(A, B)`; `None` for a literal.
fn item_key(item: &NestedMeta) -> Option<&Path> {
    match item {
        NestedMeta::Meta(meta) => Some(meta.path()),
        NestedMeta::NameValueInvalidExpr(invalid) => Some(&invalid.path),
        NestedMeta::Lit(_) => None,
    }
}

/// One item: `key = SomeType` for a type key, else whatever darling reads.
fn item(input: ParseStream<'_>, type_keys: &[TypeKey]) -> syn::Result<NestedMeta> {
    let Some(type_key) = type_key_ahead(input, type_keys) else {
        return other_item(input);
    };
    // A quoted type (`services = "Arc<Clock>"`) is read by darling, as it always was.
    if input.peek3(LitStr) {
        return input.parse();
    }
    let key = Ident::parse_any(input)?;
    let eq_token: Token![=] = input.parse()?;
    let ty = input.parse::<Type>().map_err(|error| {
        syn::Error::new(
            error.span(),
            format!(
                "`{key} = ...` takes a type, such as `{key} = {}`: {error}",
                type_key.example
            ),
        )
    })?;
    if !input.is_empty() && !input.peek(Token![,]) {
        return Err(input.error(format!(
            "expected `,` after the type of `{key}`: separate the keys of the attribute with \
             commas"
        )));
    }
    Ok(name_value(key, eq_token, &ty))
}

/// An item that is not a type key, as darling reads it; but a value that is a type and no
/// expression (`servics = Services<'static, u8>`, a misspelled key) is read whole as a type,
/// so that darling reports the key rather than pieces of the type cut at its comma.
fn other_item(input: ParseStream<'_>) -> syn::Result<NestedMeta> {
    let not_an_expression = matches!(
        input.fork().parse::<NestedMeta>(),
        Ok(NestedMeta::NameValueInvalidExpr(_))
    );
    if not_an_expression && key_and_type(&input.fork()).is_ok() {
        let (key, eq_token, ty) = key_and_type(input)?;
        return Ok(name_value(key, eq_token, &ty));
    }
    input.parse()
}

/// `key = SomeType`, up to the end or the next comma.
fn key_and_type(input: ParseStream<'_>) -> syn::Result<(Ident, Token![=], Type)> {
    let key = Ident::parse_any(input)?;
    let eq_token = input.parse()?;
    let ty = input.parse()?;
    if !input.is_empty() && !input.peek(Token![,]) {
        return Err(input.error("expected `,`"));
    }
    Ok((key, eq_token, ty))
}

/// `key = ty` as darling's item, the type as an expression darling hands to
/// `<Type as FromMeta>::from_expr` unchanged: it parses the tokens back into the type, spans
/// and all.
fn name_value(key: Ident, eq_token: Token![=], ty: &Type) -> NestedMeta {
    NestedMeta::Meta(Meta::NameValue(MetaNameValue {
        path: Path::from(key),
        eq_token,
        value: Expr::Verbatim(ty.to_token_stream()),
    }))
}

/// The type key that `input` starts with, as `key =`.
fn type_key_ahead<'k>(input: ParseStream<'_>, type_keys: &'k [TypeKey]) -> Option<&'k TypeKey> {
    if !input.peek2(Token![=]) {
        return None;
    }
    let key = Ident::parse_any(&input.fork()).ok()?;
    type_keys.iter().find(|type_key| key == type_key.key)
}

#[cfg(test)]
mod tests {
    use darling::FromMeta;
    use quote::{ToTokens, quote};
    use syn::{Attribute, Path, Type, parse_quote};

    use super::{TypeKey, options};

    #[test]
    fn the_rest_is_read_beside_a_mistake() {
        let mut errors = darling::Error::accumulator();
        let attr: Attribute =
            parse_quote!(#[demo(servics = u8, name = "x", name = "y", error = "not a type")]);
        let read = options::<Options>(&mut errors, &[attr], "demo", KEYS);
        assert!(errors.finish().is_err());
        assert_eq!(read.options.name.as_deref(), Some("x"));
        assert!(read.options.services.is_none());
        assert!(read.is_broken("error"));
        assert!(!read.is_broken("name"));
    }

    #[derive(FromMeta, Default)]
    struct Options {
        services: Option<Type>,
        error: Option<Type>,
        name: Option<String>,
        #[darling(rename = "crate")]
        krate: Option<Path>,
        events: Option<darling::util::PathList>,
    }

    const KEYS: &[TypeKey] = &[
        TypeKey {
            key: "services",
            example: "Arc<MyServices>",
        },
        TypeKey {
            key: "error",
            example: "MyError",
        },
    ];

    fn read(attr: Attribute) -> darling::Result<Options> {
        read_all(&[attr])
    }

    fn read_all(attrs: &[Attribute]) -> darling::Result<Options> {
        let mut errors = darling::Error::accumulator();
        let read = options(&mut errors, attrs, "demo", KEYS);
        errors.finish_with(read.options)
    }

    fn written(ty: Option<Type>) -> String {
        ty.map(|ty| ty.to_token_stream().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn any_type_is_read_unquoted() -> Result<(), String> {
        for ty in [
            quote!(Arc<Clock>),
            quote!(Arc<dyn Clock + Send + Sync>),
            quote!(my::Services<'static, u8>),
            quote!((Arc<A>, u8)),
            quote!(HashMap<String, Vec<u8>>),
            quote!(&'static str),
            quote!([u8; 4]),
            quote!(fn(u8) -> Result<u8, E>),
            quote!(<T as Trait>::Assoc),
            quote!(u64),
        ] {
            let attr: Attribute =
                parse_quote!(#[demo(name = "x", services = #ty, error = #ty, events(A, B))]);
            let options = read(attr).map_err(|error| format!("`{ty}`: {error}"))?;
            let expected = written(syn::parse2(ty).ok());
            assert_eq!(written(options.services), expected);
            assert_eq!(written(options.error), expected);
            assert_eq!(options.name.as_deref(), Some("x"));
            assert_eq!(options.events.map(|events| events.len()), Some(2));
        }
        Ok(())
    }

    #[test]
    fn a_type_may_end_the_attribute_or_be_followed_by_a_comma() -> Result<(), String> {
        let last = read(parse_quote!(#[demo(crate = ::renamed, services = Vec<u8>)]));
        let trailing = read(parse_quote!(#[demo(services = Vec<u8>,)]));
        for options in [last, trailing] {
            let options = options.map_err(|error| error.to_string())?;
            assert_eq!(written(options.services), "Vec < u8 >");
        }
        let renamed = read(parse_quote!(#[demo(services = Vec<u8>, crate = ::renamed)]));
        let krate = renamed.ok().and_then(|options| options.krate);
        assert_eq!(
            krate.map(|path| path.to_token_stream().to_string()),
            Some(":: renamed".to_owned())
        );
        Ok(())
    }

    #[test]
    fn a_quoted_type_is_still_read() -> Result<(), String> {
        let options = read(parse_quote!(#[demo(services = "Arc<Clock>")]));
        let options = options.map_err(|error| error.to_string())?;
        assert_eq!(written(options.services), "Arc < Clock >");
        Ok(())
    }

    #[test]
    fn several_attributes_are_read_together() -> Result<(), String> {
        let attrs: [Attribute; 2] = [
            parse_quote!(#[demo(services = Arc<Clock>)]),
            parse_quote!(#[demo(error = Rejected<u8>)]),
        ];
        let options = read_all(&attrs);
        let options = options.map_err(|error| error.to_string())?;
        assert_eq!(written(options.services), "Arc < Clock >");
        assert_eq!(written(options.error), "Rejected < u8 >");
        Ok(())
    }

    fn message(attr: Attribute) -> String {
        match read(attr) {
            Ok(_) => String::from("read without error"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn what_is_not_a_type_says_so_and_names_the_key() {
        let message = message(parse_quote!(#[demo(services = Arc<)]));
        assert!(
            message
                .starts_with("`services = ...` takes a type, such as `services = Arc<MyServices>`"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_comma_after_a_type_is_reported() {
        let message = message(parse_quote!(#[demo(services = Arc<Clock> error = u8)]));
        assert!(
            message.starts_with("expected `,` after the type of `services`"),
            "{message}"
        );
    }

    #[test]
    fn a_literal_other_than_a_quoted_type_is_not_a_type() {
        let message = message(parse_quote!(#[demo(error = 5)]));
        assert!(
            message.starts_with("`error = ...` takes a type, such as `error = MyError`"),
            "{message}"
        );
    }

    #[test]
    fn a_misspelled_type_key_with_a_generic_type_is_an_unknown_key() {
        let message = message(parse_quote!(#[demo(servics = Services<'static, u8>)]));
        assert_eq!(
            message,
            "Unknown field: `servics`. Did you mean `services`?"
        );
    }

    #[test]
    fn other_keys_keep_darlings_checks() {
        let message = message(parse_quote!(#[demo(servics = Arc<Clock>)]));
        assert!(message.contains("Unknown field: `servics`"), "{message}");
        let twice = self::message(parse_quote!(#[demo(services = u8, services = Vec<u8>)]));
        assert!(twice.contains("Duplicate field `services`"), "{twice}");
    }
}
