//! The rules of `#[projection(...)]` that darling cannot express: the attribute and
//! `events(...)` required, lists non-empty and duplicate-free, a usable name and version, no
//! generics, hook methods that cannot be mistaken for the trait's own; and the model they leave.

use darling::error::Accumulator;
use darling::util::SpannedValue;
use syn::spanned::Spanned;
use syn::{Ident, Path, Type};

use super::model::{Projection, ProjectionInput};
use crate::shared::diagnostics::{display_path, error_at};
use crate::shared::dummy::local_crate;
use crate::shared::message_sets::MessageSets;
use crate::shared::paths::{enum_name, runtime_crate, stand_in_type, unit_type};
use crate::shared::rules::{no_duplicates, not_generic, stored_name};
use crate::shared::type_list::{Member, TypeList};
use crate::shared::values::Number;

/// The methods of `Projection` and `Project<E>`: a hook named like one of them would, when
/// the struct has no inherent method of that name, call the trait's method itself.
const TRAIT_METHODS: &[&str] = &["filter", "dispatch", "reset", "activate", "project"];

/// Checks every rule, reporting every mistake to `errors`, and builds the model, with a
/// stand-in value for each piece that is missing or wrong.
pub(super) fn validate(input: ProjectionInput, errors: &mut Accumulator) -> Projection {
    let ProjectionInput {
        ident,
        vis,
        generics,
        options: read,
        has_attribute,
    } = input;
    if !has_attribute {
        errors.push(error_at(
            ident.span(),
            format!(
                "`#[derive(Projection)]` needs `#[projection(...)]` on `{ident}`: add \
                 `#[projection(events(FirstEvent, ...))]`, listing the events it reads"
            ),
        ));
    }
    // Without the attribute its one error says it all, and with a mistake in it `events` may
    // be the misspelled key.
    let report_missing = has_attribute && read.is_clean();
    let broken = |key| read.is_broken(key);
    let (transaction_broken, error_broken) = (broken("transaction"), broken("error"));
    let options = read.options;
    let krate = local_crate();
    not_generic(errors, &ident, &generics, "projections cannot be generic");
    let name = options
        .name
        .map(|name| SpannedValue::new(name.value, name.span));
    if let Some(name) = &name {
        errors.handle(stored_name(name, "projection", "balances"));
    }
    let events = events(errors, report_missing, &ident, options.events);
    let aggregates = options
        .aggregates
        .map(|list| aggregates(errors, &list))
        .unwrap_or_default();
    for hook in [&options.reset, &options.activate].into_iter().flatten() {
        not_a_trait_method(errors, hook);
    }
    let type_or = |ty: Option<Type>, broken: bool, default: fn() -> Type| match ty {
        Some(ty) => ty,
        None if broken => stand_in_type(&krate),
        None => default(),
    };
    let box_error = || syn::parse_quote!(_aggregato::projection::BoxError);
    Projection {
        transaction: type_or(options.transaction, transaction_broken, unit_type),
        error: type_or(options.error, error_broken, box_error),
        name: name.map_or_else(|| ident.to_string(), SpannedValue::into_inner),
        version: version(errors, options.version),
        dead_letter: options.dead_letter.is_present(),
        generic: !generics.params.is_empty() || generics.where_clause.is_some(),
        events: MessageSets::events_only(
            krate.clone(),
            vis,
            enum_name(None, &ident, "Event"),
            events,
        ),
        aggregates,
        reset: options.reset,
        activate: options.activate,
        runtime: runtime_crate(options.krate),
        krate,
        ident,
    }
}

/// `Projection::VERSION`: 1 when absent, and never 0, which is reported and read as 1.
fn version(errors: &mut Accumulator, version: Option<Number>) -> u32 {
    match version {
        None => 1,
        Some(Number { value: 0, span }) => {
            errors.push(error_at(
                span,
                "a projection's version starts at 1: write `version = 1`, or remove `version` \
                 (1 by default); raise it to rebuild the projection beside the running one",
            ));
            1
        }
        Some(Number { value, .. }) => value,
    }
}

/// The members of `events(...)`: required, non-empty, duplicate-free; each distinct listed
/// type, whatever the mistakes.
fn events(
    errors: &mut Accumulator,
    report_missing: bool,
    ident: &Ident,
    list: Option<TypeList>,
) -> Vec<Member> {
    let Some(list) = list else {
        if report_missing {
            errors.push(error_at(
                ident.span(),
                format!(
                    "`{ident}` lists no events: add `events(AccountOpened, MoneyDeposited)` to \
                     `#[projection(...)]`, naming the event types it reads"
                ),
            ));
        }
        return Vec::new();
    };
    if list.is_empty() {
        errors.push(error_at(
            list.list.path.span(),
            "`events()` is empty: list the event types this projection reads, such as \
             `events(AccountOpened, MoneyDeposited)`",
        ));
    }
    let members = list.members(errors);
    no_duplicates(errors, &members, "events");
    Member::distinct(members)
}

/// The types of `aggregates(...)`: non-empty, each once.
fn aggregates(errors: &mut Accumulator, list: &TypeList) -> Vec<Path> {
    if list.is_empty() {
        errors.push(error_at(
            list.list.path.span(),
            "`aggregates()` is empty: list the aggregates whose events this projection reads, \
             such as `aggregates(BankAccount)`, or remove `aggregates()` to read the listed \
             events of any aggregate",
        ));
    }
    let mut listed: Vec<Path> = Vec::new();
    for member in list.members(errors) {
        if listed.contains(&member.ty) {
            errors.push(error_at(
                member.ty.span(),
                format!(
                    "`aggregates(...)` lists `{}` twice; remove one",
                    display_path(&member.ty)
                ),
            ));
        } else {
            listed.push(member.ty);
        }
    }
    listed
}

/// A hook must not be named like a method of `Projection` or `Project<E>`: `Self::reset` with
/// no inherent `reset` would be the trait's own method, calling itself.
fn not_a_trait_method(errors: &mut Accumulator, hook: &Ident) {
    if TRAIT_METHODS.iter().any(|method| hook == method) {
        errors.push(error_at(
            hook.span(),
            format!(
                "`{hook}` is also a method of the traits `Projection` and `Project`, so \
                 `Self::{hook}` could call the trait's own: give your method another name, such \
                 as `truncate` or `swap_view`, and name that"
            ),
        ));
    }
}
