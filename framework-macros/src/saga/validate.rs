//! The rules of `#[derive(Saga)]` and `#[saga_steps]` that darling cannot express: the saga's
//! shape, the impl block's shape, each step's signature and marks, the compensations they
//! name, and the single pivot.

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::error::Accumulator;
use darling::util::SpannedValue;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, FnArg, Ident, ItemImpl, Meta, PathSegment, ReceiverKind,
    ReturnType, Signature, Type,
};

use super::model::{
    Method, Saga, SagaOptions, Step, StepKind, StepOptions, Steps, StepsArgs, StepsBlock,
};
use crate::shared::diagnostics::{did_you_mean, display_path, error_at, finish};
use crate::shared::dummy::local_crate;
use crate::shared::paths::{runtime_crate, stand_in_type, unit_type};
use crate::shared::rules::{Shape, not_generic, stored_name, stream_prefix, struct_fields};

/// How every step and compensation is declared, for messages.
const SIGNATURE: &str = "(&mut self, services: &Services, key: StepKey)";

/// Checks `#[derive(Saga)]`, reporting every mistake to `errors`, and builds the model.
pub(super) fn saga(input: &DeriveInput, errors: &mut Accumulator) -> Saga {
    let ident = &input.ident;
    errors.handle(struct_fields(
        input,
        Shape::NamedOrUnit,
        "Saga",
        &format!(
            "hold the saga's data in named fields, such as `struct {ident} {{ order_id: String }}`"
        ),
    ));
    not_generic(errors, ident, &input.generics, &generic_saga(ident));
    let read = SagaOptions::parse(input, errors);
    let services_broken = read.is_broken("services");
    let options = read.options;
    if let Some(name) = &options.name {
        errors.handle(stored_name(name, "saga", "PlaceOrder"));
        errors.handle(stream_prefix(name, "saga"));
    }
    let krate = local_crate();
    let generics = &input.generics;
    Saga {
        runtime: runtime_crate(options.krate),
        type_name: options
            .name
            .map_or_else(|| ident.to_string(), SpannedValue::into_inner),
        services: match options.services {
            Some(services) => services,
            None if services_broken => stand_in_type(&krate),
            None => unit_type(),
        },
        krate,
        ident: ident.clone(),
        stands_in: generics.params.is_empty()
            && generics.where_clause.is_none()
            && !matches!(input.data, Data::Union(_)),
    }
}

/// Why a saga cannot be generic, to start the message.
fn generic_saga(ident: &Ident) -> String {
    format!(
        "sagas cannot be generic, since every instance is stored under the one name of `{ident}`"
    )
}

/// Checks `#[saga_steps(args)]` on `block`, reporting every mistake at once.
pub(super) fn steps(args: &StepsArgs, block: &StepsBlock) -> darling::Result<Steps> {
    if let Some((trait_path, _)) = &block.item.trait_ {
        // The trait decides its methods' signatures: checking them as steps only adds noise.
        return Err(on_trait_impl(&block.item, trait_path));
    }
    let mut errors = darling::Error::accumulator();
    let saga = saga_of(&mut errors, block);
    for attr in &block.misplaced {
        errors.push(error_at(
            attr.path().span(),
            "`#[step(...)]` goes on a method of the `impl` block: an `async fn` that takes \
             `(&mut self, services: &Services, key: StepKey)`",
        ));
    }
    if block.marked().next().is_none() {
        errors.push(error_at(
            block.item.self_ty.span(),
            "this `impl` block has no steps: mark each step method, in the order they run, \
             with `#[step(compensate = method_that_undoes_it)]`, `#[step(pivot)]` or \
             `#[step(no_compensation)]`",
        ));
    }
    let steps = read_steps(&mut errors, block);
    let step_enum = saga.as_ref().map(|saga| {
        args.step_enum
            .clone()
            .unwrap_or_else(|| Ident::new(&format!("{saga}Step"), saga.span()))
    });
    if let (Some(saga), Some(step_enum)) = (&saga, &step_enum)
        && saga == step_enum
    {
        errors.push(error_at(
            step_enum.span(),
            format!("the step enum cannot be named `{saga}` like the saga: choose another name"),
        ));
    }
    let model = match (saga, step_enum) {
        (Some(saga), Some(step_enum)) => Some(Steps {
            runtime: runtime_crate(args.krate.clone()),
            krate: local_crate(),
            self_ty: (*block.item.self_ty).clone(),
            saga,
            step_enum,
            steps,
        }),
        _ => None,
    };
    finish(errors, model)
}

/// The arguments of `#[saga_steps(...)]`, read once for the expansion and the stand-ins:
/// what could be read, the mistakes pushed to `errors`.
pub(super) fn parse_args(args: TokenStream, errors: &mut Accumulator) -> StepsArgs {
    if args.is_empty() {
        return StepsArgs::default();
    }
    let items = match NestedMeta::parse_meta_list(args) {
        Ok(items) => items,
        Err(error) => {
            errors.push(error.into());
            return StepsArgs::default();
        }
    };
    errors
        .handle(StepsArgs::from_list(&items))
        .unwrap_or_default()
}

/// `#[saga_steps]` on `impl Trait for Type`.
fn on_trait_impl(item: &ItemImpl, trait_path: &syn::Path) -> darling::Error {
    let written = item.self_ty.to_token_stream().to_string();
    error_at(
        trait_path.span(),
        format!(
            "`#[saga_steps]` goes on the saga's own `impl {written} {{ .. }}` block, not on an \
             impl of `{}`: move the step methods into `impl {written} {{ .. }}`",
            display_path(trait_path)
        ),
    )
}

/// The saga an inherent impl block belongs to: the name of its self type, when the block is
/// not generic and the type is named.
fn saga_of(errors: &mut Accumulator, block: &StepsBlock) -> Option<Ident> {
    let item = &block.item;
    let self_ty = &item.self_ty;
    let Some(segment) = saga_segment(self_ty) else {
        errors.push(error_at(
            self_ty.span(),
            format!(
                "`#[saga_steps]` goes on the `impl` block of a `#[derive(Saga)]` struct, such \
                 as `impl PlaceOrder {{ .. }}`, not on `impl {}`",
                self_ty.to_token_stream()
            ),
        ));
        return None;
    };
    let saga = &segment.ident;
    not_generic(errors, saga, &item.generics, &generic_saga(saga));
    if item.generics.params.is_empty() && !segment.arguments.is_none() {
        errors.push(error_at(
            segment.arguments.span(),
            format!("sagas cannot be generic: write the block as `impl {saga} {{ .. }}`"),
        ));
    }
    Some(saga.clone())
}

/// The saga of a block that is not a trait impl and has none of the mistakes [`saga_of`]
/// reports.
pub(super) fn plain_saga(item: &ItemImpl) -> Option<Ident> {
    let generic = !item.generics.params.is_empty() || item.generics.where_clause.is_some();
    if item.trait_.is_some() || generic {
        return None;
    }
    saga_segment(&item.self_ty)
        .filter(|segment| segment.arguments.is_none())
        .map(|segment| segment.ident.clone())
}

/// The last segment of a self type that is a path, such as `PlaceOrder` in
/// `impl orders::PlaceOrder`.
fn saga_segment(self_ty: &Type) -> Option<&PathSegment> {
    match self_ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

/// Every marked method as a step, in order; a method whose marks are wrong is left out, its
/// mistakes reported.
fn read_steps(errors: &mut Accumulator, block: &StepsBlock) -> Vec<Step> {
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
fn positive_timeout(errors: &mut Accumulator, timeout: SpannedValue<u64>) -> u64 {
    if *timeout == 0 {
        errors.push(error_at(
            timeout.span(),
            "`timeout_ms = 0` fails every run: give the step's time limit in milliseconds, \
             such as `timeout_ms = 5000`, or remove it to use the executor's default",
        ));
    }
    *timeout
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

/// How the step is undone, from its marks: exactly one of `compensate = ..`, `pivot` and
/// `no_compensation`, and a compensation that is a method of the block but not a step.
fn resolve_kind(
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
fn after_pivot(errors: &mut Accumulator, name: &Ident, first: &Ident, options: &StepOptions) {
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

/// Whether a method is a step or the compensation of one, for messages.
enum Role<'a> {
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
fn check_signature(errors: &mut Accumulator, sig: &Signature, role: &Role<'_>) {
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
                        written_receiver(&receiver.to_token_stream().to_string())
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

/// A receiver as the user wrote it: `&self`, `mut self`, `self: Box<Self>`.
fn written_receiver(tokens: &str) -> String {
    [
        ("& ", "&"),
        (" : ", ": "),
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
    ]
    .iter()
    .fold(tokens.to_owned(), |text, (spaced, tight)| {
        text.replace(spaced, tight)
    })
}

/// Where errors about what a method returns point: its return type, or its name when it
/// returns `()`.
fn output_span(sig: &Signature) -> Span {
    match &sig.output {
        ReturnType::Type(_, ty) => ty.span(),
        ReturnType::Default => sig.ident.span(),
    }
}

/// The step enum variant of a step method: `reserve_stock` becomes `ReserveStock`.
pub(super) fn variant_name(method: &Ident) -> Ident {
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
    use super::*;

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

    #[test]
    fn receivers_read_as_written() -> syn::Result<()> {
        for written in [
            "&self",
            "&'a self",
            "mut self",
            "self: Box<Self>",
            "&mut self",
        ] {
            let receiver: syn::Receiver = syn::parse_str(written)?;
            let tokens = receiver.to_token_stream().to_string();
            assert_eq!(written_receiver(&tokens), written);
        }
        Ok(())
    }
}
