//! The stand-ins the saga macros emit beside their errors.
//!
//! Without them, one mistake in `#[saga(...)]` or in a `#[step(...)]` also fails every
//! `SagaExecutor<PlaceOrder, _>`, every `PlaceOrderStep::Ship` and the other macro's impl,
//! since the items they name were never generated. With a `Saga` impl, a `SagaSteps` impl
//! without steps and the step enum, those type-check and the compiler reports only the real
//! mistakes. Nothing here runs: the crate does not compile.

use darling::FromMeta;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Data, DeriveInput, Ident, Meta, Path, Type};

use super::expand::step_enum;
use super::model::{StepsBlock, TYPE_KEYS};
use super::validate::variant_name;
use crate::attribute;
use crate::paths::{runtime_crate, unit_type};

/// `impl Saga` for the struct `input`, or nothing when it is generic or a union.
pub(super) fn saga(input: &DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty()
        || input.generics.where_clause.is_some()
        || matches!(input.data, Data::Union(_))
    {
        return TokenStream::new();
    }
    let known =
        Known::from_list(&attribute::items(&input.attrs, "saga", TYPE_KEYS)).unwrap_or_default();
    let krate = runtime_crate(known.krate.and_then(Lenient::into_inner));
    let services = match known.services {
        None => unit_type(),
        Some(Lenient(Some(services))) => services,
        Some(Lenient(None)) => syn::parse_quote!(#krate::__private::Unreachable),
    };
    let ident = &input.ident;
    let type_name = ident.to_string();
    quote! {
        #[automatically_derived]
        impl #krate::saga::Saga for #ident {
            const SAGA_TYPE: &'static str = #type_name;
            type Services = #services;
        }
    }
}

/// What could be read of `#[saga(...)]`: a key is `Some(Lenient(None))` when present but
/// wrong.
#[derive(FromMeta, Default)]
#[darling(allow_unknown_fields)]
struct Known {
    services: Option<Lenient<Type>>,
    #[darling(rename = "crate")]
    krate: Option<Lenient<Path>>,
}

/// A value that is `None` when it does not parse, instead of an error.
struct Lenient<T>(Option<T>);

impl<T> Lenient<T> {
    fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T: FromMeta> FromMeta for Lenient<T> {
    fn from_meta(item: &Meta) -> darling::Result<Self> {
        Ok(Self(T::from_meta(item).ok()))
    }
}

/// A `SagaSteps` impl without steps and the step enum of every marked method, or nothing when
/// the block is not an inherent impl of a saga struct.
pub(super) fn steps(args: TokenStream, block: &StepsBlock) -> TokenStream {
    let Some(saga) = super::validate::plain_saga(&block.item) else {
        return TokenStream::new();
    };
    let args = super::validate::parse_args(args).unwrap_or_default();
    let krate = runtime_crate(args.krate);
    let mut tokens = steps_impl(&krate, &block.item.self_ty);
    tokens.extend(step_enum_stand_in(&saga, args.step_enum, block));
    tokens
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
fn step_enum_stand_in(saga: &Ident, custom: Option<Ident>, block: &StepsBlock) -> TokenStream {
    let name = custom.unwrap_or_else(|| Ident::new(&format!("{saga}Step"), saga.span()));
    let methods: Vec<&Ident> = block.marked().map(|method| &method.sig.ident).collect();
    let variants: Vec<Ident> = methods.iter().map(|method| variant_name(method)).collect();
    let clash = variants
        .iter()
        .enumerate()
        .any(|(index, variant)| variants[..index].contains(variant));
    if clash || name == *saga {
        return TokenStream::new();
    }
    let pairs: Vec<(&Ident, &Ident)> = methods.into_iter().zip(&variants).collect();
    step_enum(saga, &name, &pairs)
}
