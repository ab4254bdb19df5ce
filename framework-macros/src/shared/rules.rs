//! Rules several derives share: a usable stored name, a version from 1, no generics where one
//! name is stored for the type, the shape of the struct a derive goes on, and each type of a
//! list (`events(...)`, `commands(...)`) at most once.

use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::spanned::Spanned;
use syn::{Data, DataStruct, DeriveInput, Fields, FieldsNamed, Generics, Ident};

use super::diagnostics::{display_path, error_at};
use super::type_list::Member;

/// A stored name (`name = "..."`) must not be empty: it is written with every event or
/// stream, and an empty one cannot be told apart.
pub(crate) fn stored_name(
    name: &SpannedValue<String>,
    what: &str,
    example: &str,
) -> darling::Result<()> {
    if name.trim().is_empty() {
        return Err(error_at(
            name.span(),
            format!(
                "the stored {what} name is empty: write a name such as `name = \"{example}\"`, \
                 or remove `name` to use the type's name"
            ),
        ));
    }
    Ok(())
}

/// A name that prefixes stream ids (`"{name}-{id}"`: aggregates, entities, sagas) must not
/// contain `-`, or the stream ids of two types could collide (`A-b` + `c` and `A` + `b-c`).
pub(crate) fn stream_prefix(name: &SpannedValue<String>, what: &str) -> darling::Result<()> {
    if name.contains('-') {
        return Err(error_at(
            name.span(),
            format!(
                "the stored {what} name `{}` contains `-`: stream ids are `{{name}}-{{id}}`, so a \
                 `-` in the name could make two types' stream ids collide; use `.` or `_` instead",
                name.as_str()
            ),
        ));
    }
    Ok(())
}

/// The schema version of a stored payload (`version = N`): 1 when absent, and never 0, which
/// is reported and read as 1.
pub(crate) fn version(errors: &mut Accumulator, version: Option<&SpannedValue<u32>>) -> u32 {
    match version {
        None => 1,
        Some(version) if **version == 0 => {
            errors.push(error_at(
                version.span(),
                "versions start at 1: write `version = 1` for the first schema, or remove \
                 `version`, which is 1 by default",
            ));
            1
        }
        Some(version) => **version,
    }
}

/// A type stored under one name cannot be generic. `reason` starts the message, such as
/// "aggregates cannot be generic yet".
pub(crate) fn not_generic(
    errors: &mut Accumulator,
    ident: &Ident,
    generics: &Generics,
    reason: &str,
) {
    if let Some(param) = generics.params.first() {
        errors.push(error_at(
            param.span(),
            format!("{reason}: make `{ident}` a concrete type, with concrete types in its fields"),
        ));
    } else if let Some(where_clause) = &generics.where_clause {
        errors.push(error_at(
            where_clause.where_token.span,
            format!("{reason}: remove the `where` clause of `{ident}`"),
        ));
    }
}

/// The shapes a derive accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A struct with named fields.
    Named,
    /// A struct with named fields, or a unit struct.
    NamedOrUnit,
}

/// The named fields of the struct `input` (none for an accepted unit struct), or the error
/// at the token that makes it another shape: `derive` names the derive, `fix` says what to
/// write instead.
pub(crate) fn struct_fields<'a>(
    input: &'a DeriveInput,
    shape: Shape,
    derive: &str,
    fix: &str,
) -> darling::Result<Option<&'a FieldsNamed>> {
    let ident = &input.ident;
    let (span, found) = match &input.data {
        Data::Struct(DataStruct {
            fields: Fields::Named(fields),
            ..
        }) => return Ok(Some(fields)),
        Data::Struct(DataStruct {
            fields: Fields::Unit,
            ..
        }) if shape == Shape::NamedOrUnit => return Ok(None),
        Data::Struct(DataStruct {
            fields: Fields::Unnamed(fields),
            ..
        }) => (fields.paren_token.span.join(), "a tuple struct"),
        Data::Struct(DataStruct { struct_token, .. }) => (struct_token.span, "a unit struct"),
        Data::Enum(data) => (data.enum_token.span, "an enum"),
        Data::Union(data) => (data.union_token.span, "a union"),
    };
    let accepted = match shape {
        Shape::Named => "a struct with named fields",
        Shape::NamedOrUnit => "a struct with named fields, or a unit struct",
    };
    Err(error_at(
        span,
        format!("`#[derive({derive})]` needs {accepted}, but `{ident}` is {found}: {fix}"),
    ))
}

/// Each type of the list `key(...)` at most once, and no two types that would become the same
/// variant.
pub(crate) fn no_duplicates(errors: &mut Accumulator, members: &[Member], key: &str) {
    for (index, later) in members.iter().enumerate() {
        let Some(earlier) = members[..index]
            .iter()
            .find(|earlier| earlier.variant == later.variant)
        else {
            continue;
        };
        let (earlier_path, later_path) = (display_path(&earlier.ty), display_path(&later.ty));
        let message = if earlier_path == later_path {
            format!("`{key}(...)` lists `{later_path}` twice; remove one")
        } else {
            format!(
                "`{key}(...)` lists `{earlier_path}` and `{later_path}`, which would both become \
                 the variant `{}`; import one under another name \
                 (`use {later_path} as Other{};`) and list that name",
                later.variant, later.variant
            )
        };
        errors.push(error_at(later.variant.span(), message));
    }
}
