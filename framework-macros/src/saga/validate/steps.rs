//! The steps of a block: each marked method read as a step, in order, with its options, a
//! positive timeout, and a step enum variant of its own.

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::error::Accumulator;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Meta};

use super::marks::{after_pivot, resolve_kind};
use super::signature::{Role, check_signature, output_span};
use crate::saga::model::{Method, Step, StepKind, StepOptions, StepsBlock};
use crate::shared::diagnostics::error_at;
use crate::shared::values::Millis;

/// Every marked method as a step, in order; a method whose marks are wrong is left out, its
/// mistakes reported.
pub(super) fn read_steps(errors: &mut Accumulator, block: &StepsBlock) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut pivot: Option<&Ident> = None;
    let mut checked_compensations: Vec<&Ident> = Vec::new();
    for method in block.marked() {
        let name = &method.sig.ident;
        check_signature(errors, &method.sig, &Role::Step);
        let Some(options) = read_options(errors, method) else {
            continue;
        };
        let kind = resolve_kind(errors, block, method, &options);
        // A step whose marks are already wrong is not checked against the pivot: its fix
        // may change what it is.
        match (&kind, pivot) {
            (None, _) => {}
            (Some(_), Some(first)) => after_pivot(errors, name, first, &options),
            (Some(StepKind::Pivot), None) => pivot = Some(name),
            (Some(_), None) => {}
        }
        if let Some(StepKind::Compensable { method: undo, .. }) = &kind
            && let Some(undo) = block.method(undo)
            && !checked_compensations.contains(&&undo.sig.ident)
        {
            checked_compensations.push(&undo.sig.ident);
            check_signature(errors, &undo.sig, &Role::Compensation { of: name });
        }
        let timeout_ms = options
            .timeout_ms
            .map(|timeout| positive_timeout(errors, timeout));
        if let Some(kind) = kind {
            steps.push(Step {
                method: name.clone(),
                output: output_span(&method.sig),
                variant: variant_name(name),
                kind,
                timeout_ms,
            });
        }
    }
    distinct_variants(errors, &steps);
    steps
}

/// A time limit of zero would fail every run.
fn positive_timeout(errors: &mut Accumulator, timeout: Millis) -> u64 {
    if timeout.value == 0 {
        errors.push(error_at(
            timeout.span,
            "`timeout_ms = 0` fails every run: give the step's time limit in milliseconds, \
             such as `timeout_ms = 5000`, or remove it to use the executor's default",
        ));
    }
    timeout.value
}

/// The options of a method's one `#[step(...)]`.
fn read_options(errors: &mut Accumulator, method: &Method) -> Option<StepOptions> {
    let name = &method.sig.ident;
    let (first, more) = method.step_attrs.split_first()?;
    for extra in more {
        errors.push(error_at(
            extra.path().span(),
            format!("`{name}` has more than one `#[step(...)]`: merge them into one"),
        ));
    }
    errors.handle(parse_options(first))
}

fn parse_options(attr: &Attribute) -> darling::Result<StepOptions> {
    match &attr.meta {
        Meta::Path(_) => Ok(StepOptions::default()),
        Meta::List(list) => {
            StepOptions::from_list(&NestedMeta::parse_meta_list(list.tokens.clone())?)
        }
        Meta::NameValue(pair) => Err(error_at(
            pair.eq_token.span,
            "write the step's options in parentheses: `#[step(compensate = undo)]`, \
             `#[step(pivot)]` or `#[step(no_compensation)]`",
        )),
    }
}

/// The step enum variant of a step method: `reserve_stock` becomes `ReserveStock`.
pub(in crate::saga) fn variant_name(method: &Ident) -> Ident {
    let name = method.to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name);
    let mut pascal: String = name
        .split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect();
    if !pascal.starts_with(|c: char| c.is_alphabetic()) {
        pascal.insert_str(0, "Step");
    }
    Ident::new(&pascal, method.span())
}

/// No two steps may become the same variant, such as `charge_card` and `charge__card`.
fn distinct_variants(errors: &mut Accumulator, steps: &[Step]) {
    for (index, later) in steps.iter().enumerate() {
        if let Some(earlier) = steps[..index].iter().find(|s| s.variant == later.variant) {
            errors.push(error_at(
                later.method.span(),
                format!(
                    "steps `{}` and `{}` would both be the step enum variant `{}`: rename one",
                    earlier.method, later.method, later.variant
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use syn::Ident;

    use super::variant_name;

    #[test]
    fn variants_are_pascal_case() -> syn::Result<()> {
        let cases = [
            ("reserve_stock", "ReserveStock"),
            ("ship", "Ship"),
            ("_notify", "Notify"),
            ("step_2_again", "Step2Again"),
            ("r#match", "Match"),
        ];
        for (method, variant) in cases {
            let method: Ident = syn::parse_str(method)?;
            assert_eq!(variant_name(&method), variant);
        }
        Ok(())
    }
}
