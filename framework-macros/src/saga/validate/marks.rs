//! How a step is undone: exactly one of `compensate = method`, `pivot` and `no_compensation`;
//! a compensation that is a method of the block and not a step; one pivot, after which nothing
//! is compensated.

use darling::error::Accumulator;
use syn::Ident;
use syn::spanned::Spanned;

use super::SIGNATURE;
use super::signature::output_span;
use crate::saga::model::{Method, StepKind, StepOptions, StepsBlock};
use crate::shared::diagnostics::{did_you_mean, error_at};

/// How the step is undone, from its marks: exactly one of `compensate = ..`, `pivot` and
/// `no_compensation`, and a compensation that is a method of the block but not a step.
pub(super) fn resolve_kind(
    errors: &mut Accumulator,
    block: &StepsBlock,
    method: &Method,
    options: &StepOptions,
) -> Option<StepKind> {
    let name = &method.sig.ident;
    let (pivot, none) = (options.pivot, options.no_compensation);
    match (&options.compensate, pivot.is_present(), none.is_present()) {
        (None, false, false) => {
            let span = method
                .step_attrs
                .first()
                .map_or(name.span(), |attr| attr.path().span());
            errors.push(error_at(
                span,
                format!(
                    "step `{name}` has no compensation: name the method that undoes it, \
                     `#[step(compensate = undo_{name})]`, or mark it `#[step(pivot)]` (the \
                     point of no return) or `#[step(no_compensation)]` (nothing to undo)"
                ),
            ));
            None
        }
        (Some(undo), true, _) => {
            errors.push(error_at(
                pivot.span(),
                format!(
                    "a pivot is the point of no return and has no compensation: remove \
                     `pivot`, or remove `compensate = {undo}`"
                ),
            ));
            None
        }
        (Some(undo), false, true) => {
            errors.push(error_at(
                none.span(),
                format!(
                    "`no_compensation` contradicts `compensate = {undo}`: keep only one of them"
                ),
            ));
            None
        }
        (None, true, true) => {
            errors.push(error_at(
                none.span(),
                "a pivot already has no compensation: remove `no_compensation`",
            ));
            None
        }
        (None, true, false) => Some(StepKind::Pivot),
        (None, false, true) => Some(StepKind::NoCompensation),
        (Some(undo), false, false) => compensation(errors, block, name, undo),
    }
}

/// The compensation `undo` of step `step`: a method of the block that is not a step.
fn compensation(
    errors: &mut Accumulator,
    block: &StepsBlock,
    step: &Ident,
    undo: &Ident,
) -> Option<StepKind> {
    let Some(method) = block.method(undo) else {
        let undo_name = undo.to_string();
        let names: Vec<String> = block
            .methods
            .iter()
            .filter(|method| !method.is_step())
            .map(|method| method.sig.ident.to_string())
            .collect();
        let hint = did_you_mean(&undo_name, names.iter().map(String::as_str))
            .map(|near| format!(" (did you mean `{near}`?)"))
            .unwrap_or_default();
        errors.push(error_at(
            undo.span(),
            format!(
                "`{undo}` is not a method of this `impl` block{hint}: write the compensation \
                 of `{step}` beside it, `async fn {undo}{SIGNATURE} -> StepResult`"
            ),
        ));
        return None;
    };
    if method.is_step() {
        let message = if undo == step {
            format!(
                "step `{step}` cannot compensate itself: write a separate method that undoes \
                 it, and name that in `compensate = ..`"
            )
        } else {
            format!(
                "`{undo}` is a step itself, so it cannot also undo `{step}`: write a separate \
                 method that undoes `{step}`, and name that in `compensate = ..`"
            )
        };
        errors.push(error_at(undo.span(), message));
        return None;
    }
    Some(StepKind::Compensable {
        method: method.sig.ident.clone(),
        output: output_span(&method.sig),
    })
}

/// A step after the pivot `first` is never compensated, so it can be neither a second pivot
/// nor have a compensation.
pub(super) fn after_pivot(
    errors: &mut Accumulator,
    name: &Ident,
    first: &Ident,
    options: &StepOptions,
) {
    if options.pivot.is_present() {
        errors.push(error_at(
            options.pivot.span(),
            format!(
                "the saga already has its pivot, `{first}`, and a saga has one point of no \
                 return: mark `{name}` `no_compensation` instead (the steps after the pivot are \
                 retried until they succeed, never compensated)"
            ),
        ));
    }
    if let Some(undo) = &options.compensate {
        errors.push(error_at(
            undo.span(),
            format!(
                "`{undo}` would never run: `{name}` comes after the pivot `{first}`, and the \
                 steps after the pivot are retried until they succeed, never compensated; mark \
                 `{name}` `no_compensation`, or move it before `{first}`"
            ),
        ));
    }
}
