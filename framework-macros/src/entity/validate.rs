//! The rules of `#[entity(...)]` that darling cannot express: one identity, field attributes
//! that fit together, a version of at least 1, an error type for validators, and added
//! events and commands that do not clash with the generated ones.

use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::spanned::Spanned;
use syn::{Generics, Ident, Path};

use super::model::{Entity, EntityInput, Field, FieldInput, Names, Role};
use crate::aggregate::model::{Member, TypeList};
use crate::paths::{infallible, runtime_crate, unit_type};
use crate::validate::{display_path, error_at, finish, stored_name, stream_prefix};

/// Checks every rule, reporting every mistake at once.
pub(super) fn validate(input: EntityInput) -> darling::Result<Entity> {
    let EntityInput {
        ident,
        vis,
        generics,
        options,
        fields,
        field_errors,
    } = input;
    let ident = &ident;
    let mut errors = darling::Error::accumulator();
    // A field whose attribute has a mistake is missing from `fields`: it may be the id.
    let every_field_read = field_errors.is_empty();
    for error in field_errors {
        errors.push(error);
    }
    not_generic(&mut errors, ident, &generics);
    if let Some(name) = &options.name {
        errors.handle(stored_name(name, "entity", "Catalog.Product"));
        errors.handle(stream_prefix(name, "entity"));
    }
    let version = version(&mut errors, options.version.as_ref());
    let fields: Vec<Field> = fields
        .into_iter()
        .filter_map(|field| self::field(&mut errors, field))
        .collect();
    if every_field_read || fields.iter().any(|field| field.role == Role::Id) {
        one_id(&mut errors, ident, &fields);
    }
    if options.error.is_none() {
        validators_need_an_error(&mut errors, options.validate.as_ref(), &fields);
    }
    let names = Names::of(ident);
    let extra_events = added(&mut errors, options.events, &names.events(), "events");
    let extra_commands = added(&mut errors, options.commands, &names.commands(), "commands");
    let model = Entity {
        krate: runtime_crate(options.krate),
        vis,
        type_name: options
            .name
            .map_or_else(|| ident.to_string(), SpannedValue::into_inner),
        version,
        error: options.error.unwrap_or_else(infallible),
        services: options.services.unwrap_or_else(unit_type),
        validate: options.validate,
        fields,
        names,
        extra_events,
        extra_commands,
        ident: ident.clone(),
    };
    finish(errors, Some(model))
}

fn not_generic(errors: &mut Accumulator, ident: &Ident, generics: &Generics) {
    if let Some(param) = generics.params.first() {
        errors.push(error_at(
            param.span(),
            format!(
                "entities cannot be generic yet: make `{ident}` a concrete type, \
                 with concrete types in its fields"
            ),
        ));
    } else if let Some(where_clause) = &generics.where_clause {
        errors.push(error_at(
            where_clause.where_token.span,
            format!("entities cannot be generic yet: remove the `where` clause of `{ident}`"),
        ));
    }
}

fn version(errors: &mut Accumulator, version: Option<&SpannedValue<u32>>) -> u32 {
    match version {
        None => 1,
        Some(version) if **version == 0 => {
            errors.push(error_at(
                version.span(),
                "versions start at 1: write `version = 1`, or remove `version`",
            ));
            1
        }
        Some(version) => **version,
    }
}

/// A field's role, from the attributes that fit together; `None` after reporting those that
/// do not.
fn field(errors: &mut Accumulator, input: FieldInput) -> Option<Field> {
    let ident = input.ident?;
    let FieldInput {
        id,
        readonly,
        skip,
        validate,
        ..
    } = input;
    let mut conflict = |span, message: String| errors.push(error_at(span, message));
    if id.is_present() && readonly.is_present() {
        conflict(
            readonly.span(),
            format!(
                "`{ident}` is the entity's identity, which never changes after creation: \
                 remove `readonly`, it is implied by `id`"
            ),
        );
    }
    if id.is_present() && skip.is_present() {
        conflict(
            skip.span(),
            format!(
                "`{ident}` is the entity's identity, which every created event stores: \
                 remove `skip`, or move `id` to another field"
            ),
        );
    }
    if skip.is_present() && readonly.is_present() {
        conflict(
            readonly.span(),
            format!("`{ident}` is skipped, so it is never stored or updated: remove `readonly`"),
        );
    }
    if let (true, Some(path)) = (skip.is_present(), &validate) {
        conflict(
            path.span(),
            format!(
                "`{ident}` is skipped, so no command sets it and there is nothing to validate: \
                 remove `validate`, or `skip`"
            ),
        );
    }
    let role = if id.is_present() {
        Role::Id
    } else if skip.is_present() {
        Role::Skip
    } else if readonly.is_present() {
        Role::Readonly
    } else {
        Role::Updatable
    };
    Some(Field {
        ident,
        ty: input.ty,
        role,
        validate,
    })
}

fn one_id(errors: &mut Accumulator, ident: &Ident, fields: &[Field]) {
    let ids: Vec<&Field> = fields.iter().filter(|f| f.role == Role::Id).collect();
    let Some(first) = ids.first() else {
        errors.push(error_at(
            ident.span(),
            format!(
                "`{ident}` has no identity field: mark the field that identifies one `{ident}` \
                 with `#[entity(id)]`, such as `#[entity(id)] id: String`"
            ),
        ));
        return;
    };
    for later in &ids[1..] {
        errors.push(error_at(
            later.ident.span(),
            format!(
                "`{ident}` has two identity fields, `{}` and `{}`: keep `#[entity(id)]` on \
                 one of them",
                first.ident, later.ident
            ),
        ));
    }
}

/// A validator rejects with the user's error, so the entity must name it.
fn validators_need_an_error(errors: &mut Accumulator, own: Option<&Path>, fields: &[Field]) {
    let first = own
        .into_iter()
        .chain(fields.iter().filter_map(|field| field.validate.as_ref()))
        .next();
    if let Some(path) = first {
        errors.push(error_at(
            path.span(),
            format!(
                "`validate = {}` returns `Result<(), YourError>`, but the entity names no error \
                 type: add `error = YourError` to the struct's `#[entity(...)]`",
                display_path(path)
            ),
        ));
    }
}

/// The types of an added `events(...)` or `commands(...)` list, each at most once and none
/// named like a generated one.
fn added(
    errors: &mut Accumulator,
    list: Option<TypeList>,
    generated: &[&Ident],
    key: &str,
) -> Vec<Member> {
    let Some(list) = list else {
        return Vec::new();
    };
    let mut members: Vec<Member> = Vec::new();
    for ty in list.entries {
        let Some(variant) = ty.segments.last().map(|segment| segment.ident.clone()) else {
            continue;
        };
        let written = display_path(&ty);
        if generated.contains(&&variant) {
            errors.push(error_at(
                variant.span(),
                format!(
                    "`{variant}` is generated by `#[derive(Entity)]`: remove it from \
                     `{key}(...)`, which lists only the {key} you add"
                ),
            ));
        } else if members.iter().any(|member| member.variant == variant) {
            errors.push(error_at(
                variant.span(),
                format!(
                    "`{key}(...)` lists `{written}` twice, or two types named `{variant}`; \
                     remove one, or import one under another name"
                ),
            ));
        } else {
            members.push(Member { ty, variant });
        }
    }
    members
}
