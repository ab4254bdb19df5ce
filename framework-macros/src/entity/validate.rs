//! The rules of `#[entity(...)]` that darling cannot express: one identity, field attributes
//! that fit together, a version of at least 1, an error type for validators, and added
//! events and commands that do not clash with the generated ones.

use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::spanned::Spanned;
use syn::{Ident, Path, Type};

use super::model::{Entity, EntityInput, Field, FieldInput, FieldOptions, Names, Role};
use crate::shared::diagnostics::{display_path, error_at};
use crate::shared::dummy::local_crate;
use crate::shared::paths::{infallible, runtime_crate, stand_in_type, unit_type};
use crate::shared::rules::{not_generic, stored_name, stream_prefix, version};
use crate::shared::type_list::{Member, TypeList};

/// Checks every rule, reporting every mistake to `errors`, and builds the model, with a
/// stand-in value for each piece that is missing or wrong.
pub(super) fn validate(input: EntityInput, errors: &mut Accumulator) -> Entity {
    let EntityInput {
        ident,
        vis,
        generics,
        options: read,
        fields,
        has_fields,
    } = input;
    let ident = &ident;
    // A field whose attribute has a mistake may be the id, misspelled; a struct of another
    // shape has no fields to look for one in.
    let every_field_read = has_fields && fields.iter().all(|field| field.clean);
    let (error_broken, services_broken) = (read.is_broken("error"), read.is_broken("services"));
    let options = read.options;
    let runtime = runtime_crate(options.krate);
    let krate = local_crate();
    not_generic(errors, ident, &generics, "entities cannot be generic yet");
    if let Some(name) = &options.name {
        errors.handle(stored_name(name, "entity", "Catalog.Product"));
        errors.handle(stream_prefix(name, "entity"));
    }
    let version = version(errors, options.version.as_ref());
    let fields: Vec<Field> = fields
        .into_iter()
        .map(|field| self::field(errors, field))
        .collect();
    if every_field_read || fields.iter().any(|field| field.role == Role::Id) {
        one_id(errors, ident, &fields);
    }
    if options.error.is_none() && !error_broken {
        validators_need_an_error(errors, options.validate.as_ref(), &fields);
    }
    let names = Names::of(ident, options.event_enum, options.command_enum);
    distinct_names(errors, ident, &names);
    let extra_events = added(errors, options.events, &names.events(), "events");
    let extra_commands = added(errors, options.commands, &names.commands(), "commands");
    let type_or = |ty: Option<Type>, broken: bool, default: fn() -> Type| match ty {
        Some(ty) => ty,
        None if broken => stand_in_type(&krate),
        None => default(),
    };
    Entity {
        runtime,
        generic: !generics.params.is_empty() || generics.where_clause.is_some(),
        vis,
        type_name: options
            .name
            .map_or_else(|| ident.to_string(), SpannedValue::into_inner),
        version,
        upcast: options.upcast.unwrap_or_default(),
        error: type_or(options.error, error_broken, infallible),
        services: type_or(options.services, services_broken, unit_type),
        validate: options.validate,
        fields,
        names,
        extra_events,
        extra_commands,
        krate,
        ident: ident.clone(),
    }
}

/// The generated enums need names of their own.
fn distinct_names(errors: &mut Accumulator, ident: &Ident, names: &Names) {
    let (events, commands) = (&names.event_enum, &names.command_enum);
    let generated = || names.events().into_iter().chain(names.commands());
    for name in [events, commands] {
        if name == ident || generated().any(|message| message == name) {
            errors.push(error_at(
                name.span(),
                format!(
                    "the generated enum cannot be named `{name}` like the entity or one of its \
                     generated messages: choose another name"
                ),
            ));
        }
    }
    if events == commands {
        errors.push(error_at(
            commands.span(),
            format!(
                "the event and command enums are both named `{commands}`: give \
                 `command_enum` another name"
            ),
        ));
    }
}

/// A field's role, from its flags, after reporting those that do not fit together.
fn field(errors: &mut Accumulator, input: FieldInput) -> Field {
    let FieldInput {
        ident, ty, options, ..
    } = input;
    let FieldOptions {
        id,
        readonly,
        skip,
        validate,
    } = options;
    let mut conflict = |span, message: String| errors.push(error_at(span, message));
    let borrowed = matches!(ty, Type::Reference(_)) && !skip.is_present();
    if let (true, Type::Reference(reference)) = (borrowed, &ty) {
        // The compiler would say only that `Deserialize` "is not general enough".
        conflict(
            reference.and_token.span,
            format!(
                "`{ident}` borrows, but an entity's fields are stored in its events and read \
                 back from the store, which a borrow cannot be: own the data (`String` for \
                 `&str`, `Vec<T>` for `&[T]`), or mark the field `#[entity(skip)]`"
            ),
        );
    }
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
    } else if skip.is_present() || borrowed {
        // A borrowed field is left out of the stand-in messages, whose serde impls it would
        // break again.
        Role::Skip
    } else if readonly.is_present() {
        Role::Readonly
    } else {
        Role::Updatable
    };
    Field {
        ident,
        ty,
        role,
        validate,
    }
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
    for Member { ty, variant } in list.members(errors) {
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
