//! The rules of `#[aggregate(...)]` that darling cannot express: required keys, non-empty
//! and duplicate-free lists, no generics, distinct enum names; and the model they leave.

use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::spanned::Spanned;
use syn::{Ident, Type};

use super::model::{Aggregate, AggregateInput};
use crate::shared::diagnostics::error_at;
use crate::shared::dummy::local_crate;
use crate::shared::message_sets::MessageSets;
use crate::shared::paths::{enum_name, infallible, runtime_crate, stand_in_type, unit_type};
use crate::shared::rules::{no_duplicates, not_generic, stored_name, stream_prefix};
use crate::shared::type_list::{Member, TypeList};

/// Checks every rule, reporting every mistake to `errors`, and builds the model, with a
/// stand-in value for each piece that is missing or wrong.
pub(super) fn validate(input: AggregateInput, errors: &mut Accumulator) -> Aggregate {
    let AggregateInput {
        ident,
        vis,
        generics,
        options: read,
        has_attribute,
    } = input;
    let ident = &ident;
    if !has_attribute {
        errors.push(error_at(
            ident.span(),
            format!(
                "`#[derive(Aggregate)]` needs `#[aggregate(...)]` on `{ident}`: \
                 add `#[aggregate(id = YourId, events(FirstEvent, ...), commands(FirstCommand, ...))]`"
            ),
        ));
    }
    // Without the attribute its one error says it all, and with a mistake in it a required key
    // that seems absent may be the misspelled one.
    let report_missing = has_attribute && read.is_clean();
    let broken = |key| read.is_broken(key);
    let (error_broken, services_broken) = (broken("error"), broken("services"));
    let options = read.options;
    let runtime = runtime_crate(options.krate);
    let krate = local_crate();
    not_generic(errors, ident, &generics, "aggregates cannot be generic yet");
    if let Some(name) = &options.name {
        errors.handle(stored_name(name, "aggregate", "BankAccount"));
        errors.handle(stream_prefix(name, "aggregate"));
    }
    if let Some(version) = options.snapshot_version.filter(|version| **version == 0) {
        errors.push(error_at(
            version.span(),
            "a snapshot version starts at 1: write `snapshot_version = 1`, then raise it each \
             time the state's serialized form changes",
        ));
    }
    let id = required_id(errors, report_missing, ident, options.id);
    let events = members(errors, report_missing, ident, options.events, Kind::Events);
    let commands = members(
        errors,
        report_missing,
        ident,
        options.commands,
        Kind::Commands,
    );
    let event_enum = enum_name(options.event_enum, ident, "Event");
    let command_enum = enum_name(options.command_enum, ident, "Command");
    distinct_names(errors, ident, &event_enum, &command_enum);
    let type_or = |ty: Option<Type>, broken: bool, default: fn() -> Type| match ty {
        Some(ty) => ty,
        None if broken => stand_in_type(&krate),
        None => default(),
    };
    Aggregate {
        id: id.unwrap_or_else(|| stand_in_type(&krate)),
        error: type_or(options.error, error_broken, infallible),
        services: type_or(options.services, services_broken, unit_type),
        type_name: options
            .name
            .map_or_else(|| ident.to_string(), SpannedValue::into_inner),
        snapshot_version: options.snapshot_version.map(SpannedValue::into_inner),
        initial: options.initial,
        generic: !generics.params.is_empty() || generics.where_clause.is_some(),
        sets: MessageSets {
            krate: krate.clone(),
            vis,
            event_enum,
            command_enum,
            events,
            commands,
        },
        krate,
        runtime,
        ident: ident.clone(),
    }
}

fn required_id(
    errors: &mut Accumulator,
    report_missing: bool,
    ident: &Ident,
    id: Option<Type>,
) -> Option<Type> {
    if id.is_none() && report_missing {
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

/// The members of a required, non-empty, duplicate-free list; each distinct listed type,
/// whatever the mistakes.
fn members(
    errors: &mut Accumulator,
    report_missing: bool,
    ident: &Ident,
    list: Option<TypeList>,
    kind: Kind,
) -> Vec<Member> {
    let key = kind.key();
    let Some(list) = list else {
        if !report_missing {
            return Vec::new();
        }
        errors.push(error_at(
            ident.span(),
            format!(
                "`{ident}` lists no {key}: add `{}` to `#[aggregate(...)]`, naming {}",
                kind.example(),
                kind.what()
            ),
        ));
        return Vec::new();
    };
    if list.is_empty() {
        errors.push(error_at(
            list.list.path.span(),
            format!(
                "`{key}()` is empty: list {}, such as `{}`",
                kind.what(),
                kind.example()
            ),
        ));
    }
    let members = list.members(errors);
    no_duplicates(errors, &members, kind.key());
    Member::distinct(members)
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
