//! The rules of `#[aggregate(...)]` that darling cannot express: required keys, non-empty
//! and duplicate-free lists, no generics, distinct enum names.

use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::spanned::Spanned;
use syn::{Generics, Ident, Path, Type};

use super::model::{Aggregate, AggregateInput, Member, TypeList};
use crate::paths::{infallible, runtime_crate, unit_type};
use crate::validate::{display_path, error_at, finish, stored_name, stream_prefix};

/// Checks every rule, reporting every mistake at once.
pub(super) fn validate(input: AggregateInput) -> darling::Result<Aggregate> {
    let AggregateInput {
        ident,
        vis,
        generics,
        options,
        has_attribute,
    } = input;
    let ident = &ident;
    if !has_attribute {
        return Err(error_at(
            ident.span(),
            format!(
                "`#[derive(Aggregate)]` needs `#[aggregate(...)]` on `{ident}`: \
                 add `#[aggregate(id = YourId, events(FirstEvent, ...), commands(FirstCommand, ...))]`"
            ),
        ));
    }
    let mut errors = darling::Error::accumulator();
    not_generic(&mut errors, ident, &generics);
    if let Some(name) = &options.name {
        errors.handle(stored_name(name, "aggregate", "BankAccount"));
        errors.handle(stream_prefix(name, "aggregate"));
    }
    let id = required_id(&mut errors, ident, options.id);
    let events = members(&mut errors, ident, options.events, Kind::Events);
    let commands = members(&mut errors, ident, options.commands, Kind::Commands);
    let event_enum = enum_name(options.event_enum, ident, "Event");
    let command_enum = enum_name(options.command_enum, ident, "Command");
    distinct_names(&mut errors, ident, &event_enum, &command_enum);

    let model = match (id, events, commands) {
        (Some(id), Some(events), Some(commands)) => Some(Aggregate {
            krate: runtime_crate(options.krate),
            vis,
            type_name: options
                .name
                .map_or_else(|| ident.to_string(), SpannedValue::into_inner),
            id,
            error: options.error.unwrap_or_else(infallible),
            services: options.services.unwrap_or_else(unit_type),
            event_enum,
            command_enum,
            events,
            commands,
            ident: ident.clone(),
        }),
        _ => None,
    };
    finish(errors, model)
}

fn not_generic(errors: &mut Accumulator, ident: &Ident, generics: &Generics) {
    if let Some(param) = generics.params.first() {
        errors.push(error_at(
            param.span(),
            format!(
                "aggregates cannot be generic yet: make `{ident}` a concrete type, \
                 with concrete types in its fields"
            ),
        ));
    } else if let Some(where_clause) = &generics.where_clause {
        errors.push(error_at(
            where_clause.where_token.span,
            format!("aggregates cannot be generic yet: remove the `where` clause of `{ident}`"),
        ));
    }
}

fn required_id(errors: &mut Accumulator, ident: &Ident, id: Option<Type>) -> Option<Type> {
    if id.is_none() {
        errors.push(error_at(
            ident.span(),
            format!(
                "`{ident}` has no identity type: add `id = YourIdType` to `#[aggregate(...)]`, \
                 such as `id = String` or `id = uuid::Uuid`"
            ),
        ));
    }
    id
}

/// Which list a member comes from, for messages.
#[derive(Clone, Copy)]
enum Kind {
    Events,
    Commands,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Self::Events => "events",
            Self::Commands => "commands",
        }
    }

    fn example(self) -> &'static str {
        match self {
            Self::Events => "events(AccountOpened, MoneyDeposited)",
            Self::Commands => "commands(OpenAccount, DepositMoney)",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Events => "the event types this aggregate emits and applies",
            Self::Commands => "the command types this aggregate handles",
        }
    }
}

/// The members of a required, non-empty, duplicate-free list.
fn members(
    errors: &mut Accumulator,
    ident: &Ident,
    list: Option<TypeList>,
    kind: Kind,
) -> Option<Vec<Member>> {
    let key = kind.key();
    let Some(list) = list else {
        errors.push(error_at(
            ident.span(),
            format!(
                "`{ident}` lists no {key}: add `{}` to `#[aggregate(...)]`, naming {}",
                kind.example(),
                kind.what()
            ),
        ));
        return None;
    };
    if list.entries.is_empty() {
        errors.push(error_at(
            list.list.path.span(),
            format!(
                "`{key}()` is empty: list {}, such as `{}`",
                kind.what(),
                kind.example()
            ),
        ));
        return None;
    }
    let members: Vec<Member> = list.entries.into_iter().filter_map(member).collect();
    no_duplicates(errors, &members, kind);
    Some(members)
}

/// The member for a listed type; its variant is named after the last segment. `None` only for
/// a path without segments, which syn's parser never produces.
fn member(ty: Path) -> Option<Member> {
    let variant = ty.segments.last()?.ident.clone();
    Some(Member { ty, variant })
}

/// Each type at most once, and no two types that would become the same variant.
fn no_duplicates(errors: &mut Accumulator, members: &[Member], kind: Kind) {
    let key = kind.key();
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

fn enum_name(custom: Option<Ident>, ident: &Ident, suffix: &str) -> Ident {
    custom.unwrap_or_else(|| Ident::new(&format!("{ident}{suffix}"), ident.span()))
}

fn distinct_names(errors: &mut Accumulator, ident: &Ident, events: &Ident, commands: &Ident) {
    for name in [events, commands] {
        if name == ident {
            errors.push(error_at(
                name.span(),
                format!("the generated enum cannot be named `{ident}` like the aggregate: choose another name"),
            ));
        }
    }
    if events == commands {
        errors.push(error_at(
            commands.span(),
            format!("the event and command enums are both named `{commands}`: give `command_enum` another name"),
        ));
    }
}
