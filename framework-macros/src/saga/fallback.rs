//! The stand-ins the saga macros emit beside their errors.
//!
//! Without them, one mistake in `#[saga(...)]` or in a `#[step(...)]` also fails every
//! `SagaExecutor<PlaceOrder, _>`, every `PlaceOrderStep::Ship` and the other macro's impl,
//! since the items they name were never generated. With a `Saga` impl, a `SagaSteps` impl
//! without steps and the step enum, those type-check and the compiler reports only the real
//! mistakes. Nothing here runs: the crate does not compile. They are built from what the
//! macros read once: the saga's model, and the block and arguments of `#[saga_steps]`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Ident, Path, Type};

use super::expand::{self, step_enum};
use super::model::{Saga, StepsArgs, StepsBlock};
use super::validate::variant_name;
use crate::shared::dummy::{local_crate, wrap_in_const};
use crate::shared::paths::runtime_crate;

/// `impl Saga` for the model, or nothing when it is generic or a union.
pub(super) fn saga(model: &Saga) -> TokenStream {
    if !model.stands_in {
        return TokenStream::new();
    }
    expand::saga(model)
}

/// A `SagaSteps` impl without steps and the step enum of every marked method, or nothing when
/// the block is not an inherent impl of a saga struct.
pub(super) fn steps(args: &StepsArgs, block: &StepsBlock) -> TokenStream {
    let Some(saga) = super::validate::plain_saga(&block.item) else {
        return TokenStream::new();
    };
    let runtime = runtime_crate(args.krate.clone());
    let steps_impl = steps_impl(&local_crate(), &block.item.self_ty);
    let (step_enum, step_enum_impl) =
        step_enum_stand_in(&saga, args.step_enum.clone(), block).unwrap_or_default();
    let impls = wrap_in_const(&runtime, quote!(#steps_impl #step_enum_impl));
    quote!(#step_enum #impls)
}

fn steps_impl(krate: &Path, self_ty: &Type) -> TokenStream {
    let saga = quote!(#krate::saga);
    let dispatch = |name: &str| {
        let name = Ident::new(name, Span::call_site());
        quote! {
            fn #name<'a>(
                &'a mut self,
                step: usize,
                _: &'a <Self as #saga::Saga>::Services,
                _: #saga::StepKey,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<(), #saga::StepError>,
            > + ::core::marker::Send + 'a {
                ::core::future::ready(::core::result::Result::Err(
                    #saga::unknown_step(<Self as #saga::Saga>::SAGA_TYPE, step),
                ))
            }
        }
    };
    let run_step = dispatch("run_step");
    let compensate_step = dispatch("compensate_step");
    quote! {
        #[automatically_derived]
        impl #saga::SagaSteps for #self_ty {
            const STEPS: &'static [#saga::StepInfo] = &[];
            #run_step
            #compensate_step
        }
    }
}

/// The step enum with a variant for each marked method, whatever its marks, unless two would
/// clash.
fn step_enum_stand_in(
    saga: &Ident,
    custom: Option<Ident>,
    block: &StepsBlock,
) -> Option<(TokenStream, TokenStream)> {
    let name = custom.unwrap_or_else(|| Ident::new(&format!("{saga}Step"), saga.span()));
    let methods: Vec<&Ident> = block.marked().map(|method| &method.sig.ident).collect();
    let variants: Vec<Ident> = methods.iter().map(|method| variant_name(method)).collect();
    let clash = variants
        .iter()
        .enumerate()
        .any(|(index, variant)| variants[..index].contains(variant));
    if clash || name == *saga {
        return None;
    }
    let pairs: Vec<(&Ident, &Ident)> = methods.into_iter().zip(&variants).collect();
    Some(step_enum(saga, &name, &pairs))
}
