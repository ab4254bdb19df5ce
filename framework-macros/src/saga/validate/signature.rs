//! The signature of a step or compensation:
//! `async fn name(&mut self, services: &Services, key: StepKey)`.

use darling::error::Accumulator;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ReceiverKind, ReturnType, Signature};

use super::SIGNATURE;
use crate::shared::diagnostics::{display_tokens, error_at};

/// Whether a method is a step or the compensation of one, for messages.
pub(super) enum Role<'a> {
    Step,
    Compensation { of: &'a Ident },
}

impl Role<'_> {
    fn describe(&self, name: &Ident) -> String {
        match self {
            Self::Step => format!("step `{name}`"),
            Self::Compensation { of } => format!("`{name}`, the compensation of `{of}`,"),
        }
    }
}

/// A step or compensation is `async fn name(&mut self, services: &Services, key: StepKey)`;
/// its types are checked by the compiler where the generated dispatch calls it.
pub(super) fn check_signature(errors: &mut Accumulator, sig: &Signature, role: &Role<'_>) {
    let name = &sig.ident;
    let what = role.describe(name);
    if sig.asyncness.is_none() {
        errors.push(error_at(
            sig.fn_token.span,
            format!("{what} must be `async`: write `async fn {name}{SIGNATURE} -> StepResult`"),
        ));
    }
    if let Some(param) = sig.generics.params.first() {
        errors.push(error_at(
            param.span(),
            format!("{what} cannot be generic: the saga calls it with its own `Services`"),
        ));
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(receiver)) => {
            let by_mut_ref = matches!(receiver.kind, ReceiverKind::Reference(_, _, Some(_)));
            if !by_mut_ref {
                errors.push(error_at(
                    receiver.self_token.span,
                    format!(
                        "{what} must take `&mut self`, not `{}`: the saga lends its data to \
                         each step to read and change",
                        display_tokens(receiver)
                    ),
                ));
            }
        }
        _ => {
            errors.push(error_at(
                name.span(),
                format!("{what} must be a method: write `async fn {name}{SIGNATURE}`"),
            ));
            return;
        }
    }
    let arity = sig.inputs.len();
    if arity != 3 {
        let span = sig
            .inputs
            .iter()
            .nth(3)
            .map_or_else(|| sig.paren_token.span.join(), Spanned::span);
        errors.push(error_at(
            span,
            format!(
                "{what} must take `{SIGNATURE}`, but it takes {arity} parameter{}: `Services` is \
                 the `services = ..` of `#[saga(...)]` (`()` when absent); name an unused parameter \
                 `_services` or `_key`",
                if arity == 1 { "" } else { "s" }
            ),
        ));
    }
}

/// Where errors about what a method returns point: its return type, or its name when it
/// returns `()`.
pub(super) fn output_span(sig: &Signature) -> Span {
    match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    }
}
