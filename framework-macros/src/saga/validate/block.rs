//! The rules of the block under `#[saga_steps]`: an inherent, non-generic impl of a named
//! saga, with at least one step and a step enum named apart from the saga; and its arguments.

use darling::ast::NestedMeta;
use darling::error::Accumulator;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Ident, ItemImpl, PathSegment, Type};

use super::derive::generic_saga;
use super::steps::read_steps;
use crate::saga::model::{Steps, StepsArgs, StepsBlock};
use crate::shared::attribute;
use crate::shared::diagnostics::{display_path, error_at, finish};
use crate::shared::dummy::local_crate;
use crate::shared::paths::runtime_crate;
use crate::shared::rules::not_generic;

/// Checks `#[saga_steps(args)]` on `block`, reporting every mistake at once.
pub(in crate::saga) fn steps(args: &StepsArgs, block: &StepsBlock) -> darling::Result<Steps> {
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
pub(in crate::saga) fn parse_args(args: TokenStream, errors: &mut Accumulator) -> StepsArgs {
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
    attribute::from_items(errors, items, true).options
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
pub(in crate::saga) fn plain_saga(item: &ItemImpl) -> Option<Ident> {
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
