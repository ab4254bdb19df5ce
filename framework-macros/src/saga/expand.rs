//! The code `#[derive(Saga)]` and `#[saga_steps]` generate from validated models.
//!
//! The dispatch calls each step and compensation spanned at the user's method, and converts
//! what it returns spanned at its return type, so a wrong parameter type is reported at the
//! method and a wrong return type at the return type.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::{Ident, Path};

use super::model::{Saga, Step, StepKind, Steps};
use crate::shared::dummy::wrap_in_const;
use crate::shared::respan::respan;

/// `impl Saga`, in a `const _`. It is its own stand-in beside errors, with the stand-in
/// values of the model.
pub(super) fn saga(model: &Saga) -> TokenStream {
    let Saga {
        runtime,
        krate,
        ident,
        type_name,
        services,
        ..
    } = model;
    // The impl exists only when the struct is what a saga must be, which one check at the
    // type reports otherwise: see `steps_impl`.
    let impls = wrap_in_const(
        runtime,
        quote! {
            #[automatically_derived]
            impl #krate::saga::Saga for #ident where for<'__a> Self: #krate::checks::SagaData {
                const SAGA_TYPE: &'static str = #type_name;
                type Services = #services;
            }
        },
    );
    let check = model.stands_in.then(|| {
        quote_spanned! {ident.span()=>
            const _: () = {
                let _ = #runtime::checks::saga_data::<#ident>;
            };
        }
    });
    quote!(#impls #check)
}

/// `impl SagaSteps` and the step enum.
pub(super) fn steps(model: &Steps) -> TokenStream {
    let names: Vec<(&Ident, &Ident)> = model
        .steps
        .iter()
        .map(|step| (&step.method, &step.variant))
        .collect();
    let (step_enum, step_enum_impl) = step_enum(&model.saga, &model.step_enum, &names);
    let steps_impl = steps_impl(model);
    let impls = wrap_in_const(&model.runtime, quote!(#step_enum_impl #steps_impl));
    quote!(#step_enum #impls)
}

fn steps_impl(model: &Steps) -> TokenStream {
    let Steps {
        krate,
        self_ty,
        steps,
        ..
    } = model;
    let saga = quote!(#krate::saga);
    let infos = steps.iter().map(|step| step_info(krate, step));
    let run_arms = steps.iter().enumerate().map(|(index, step)| {
        let index = Literal::usize_unsuffixed(index);
        let call = call(krate, &step.method, step.output);
        quote!(#index => #call)
    });
    let compensate_arms = steps.iter().enumerate().map(|(index, step)| {
        let index = Literal::usize_unsuffixed(index);
        match &step.kind {
            StepKind::Compensable { method, output } => {
                let call = call(krate, method, *output);
                quote!(#index => #call)
            }
            StepKind::Pivot | StepKind::NoCompensation => {
                quote!(#index => ::core::result::Result::Ok(()))
            }
        }
    });
    let compensable = steps
        .iter()
        .any(|step| matches!(step.kind, StepKind::Compensable { .. }));
    // Without a compensation to call, nothing else uses them.
    let unused = (!compensable).then(|| quote!(let _ = (services, key);));
    let signature = |name: Ident| {
        quote! {
            fn #name<'a>(
                &'a mut self,
                step: usize,
                services: &'a <Self as #saga::Saga>::Services,
                key: #saga::StepKey,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<(), #saga::StepError>,
            > + ::core::marker::Send + 'a
        }
    };
    let run_step = signature(Ident::new("run_step", Span::call_site()));
    let compensate_step = signature(Ident::new("compensate_step", Span::call_site()));
    let unknown = quote! {
        _ => ::core::result::Result::Err(
            #saga::unknown_step(<Self as #saga::Saga>::SAGA_TYPE, step),
        )
    };
    // Under the condition of the `Saga` impl: a saga struct that is not `Serialize` is reported
    // once, by the derive's check, not again here. Without the derive there is no `Saga` impl,
    // and this impl reports it.
    quote! {
        #[automatically_derived]
        impl #saga::SagaSteps for #self_ty where for<'__a> Self: #krate::checks::SagaData {
            const STEPS: &'static [#saga::StepInfo] = &[#(#infos),*];

            #run_step {
                async move {
                    match step {
                        #(#run_arms,)*
                        #unknown,
                    }
                }
            }

            #compensate_step {
                async move {
                    #unused
                    match step {
                        #(#compensate_arms,)*
                        #unknown,
                    }
                }
            }
        }
    }
}

/// `StepInfo { name, kind, timeout }` of one step.
fn step_info(krate: &Path, step: &Step) -> TokenStream {
    let saga = quote!(#krate::saga);
    let name = stored_name(&step.method);
    let kind = match &step.kind {
        StepKind::Compensable { method, .. } => {
            let compensation = stored_name(method);
            quote!(#saga::StepKind::Compensable { compensation: #compensation })
        }
        StepKind::Pivot => quote!(#saga::StepKind::Pivot),
        StepKind::NoCompensation => quote!(#saga::StepKind::NoCompensation),
    };
    let timeout = match step.timeout_ms {
        Some(ms) => {
            let ms = Literal::u64_unsuffixed(ms);
            quote!(::core::option::Option::Some(::core::time::Duration::from_millis(#ms)))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #saga::StepInfo {
            name: #name,
            kind: #kind,
            timeout: #timeout,
        }
    }
}

/// A method's name as the saga's events record it: `r#match` is `match`.
fn stored_name(method: &Ident) -> String {
    method.unraw().to_string()
}

/// Calls the step or compensation `method`, spanned at it, and converts its result, spanned at
/// its return type.
fn call(krate: &Path, method: &Ident, output: Span) -> TokenStream {
    let call = quote_spanned!(method.span()=> Self::#method(self, services, key).await);
    // The whole expression must carry `output`: its span, which the compiler labels "required
    // by a bound introduced by this call", starts at the runtime crate's path.
    let krate = respan(krate, output);
    quote_spanned!(output=> #krate::saga::IntoStepResult::into_step_result(#call))
}

/// The step enum of the saga `saga`: one variant per step, from `(method, variant)` pairs in
/// the order the steps run. The enum, which the user names, and its inherent impl, for the
/// `const _`.
pub(super) fn step_enum(
    saga: &Ident,
    step_enum: &Ident,
    steps: &[(&Ident, &Ident)],
) -> (TokenStream, TokenStream) {
    let doc = format!(
        "The steps of the saga `{saga}`, in the order they run: a typed name for each entry of \
         `<{saga} as SagaSteps>::STEPS`, generated by `#[saga_steps]`."
    );
    let variants = steps.iter().enumerate().map(|(index, (method, variant))| {
        let doc = format!(
            "The step `{}`, at index {index} of `STEPS`.",
            stored_name(method)
        );
        quote!(#[doc = #doc] #variant)
    });
    let all = steps.iter().map(|(_, variant)| quote!(Self::#variant));
    let name_arms = steps.iter().map(|(method, variant)| {
        let name = stored_name(method);
        quote!(Self::#variant => #name)
    });
    let index_arms = steps.iter().enumerate().map(|(index, (_, variant))| {
        let index = Literal::usize_unsuffixed(index);
        quote!(Self::#variant => #index)
    });
    let from_name_arms = steps.iter().map(|(method, variant)| {
        let name = stored_name(method);
        quote!(#name => ::core::option::Option::Some(Self::#variant))
    });
    let item = quote! {
        #[doc = #doc]
        #[derive(
            ::core::fmt::Debug,
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
        )]
        #[allow(dead_code)]
        pub enum #step_enum {
            #(#variants,)*
        }
    };
    let inherent = quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #step_enum {
            /// Every step, in the order the saga runs them.
            pub const ALL: &'static [Self] = &[#(#all),*];

            /// The step's name: its method's name, as the saga's events record it.
            pub const fn name(self) -> &'static str {
                match self {
                    #(#name_arms,)*
                }
            }

            /// The step's position in the saga, from 0: its index in `STEPS`.
            pub const fn index(self) -> usize {
                match self {
                    #(#index_arms,)*
                }
            }

            /// The step called `name`, as the saga's events record it, if there is one.
            pub fn from_name(name: &str) -> ::core::option::Option<Self> {
                match name {
                    #(#from_name_arms,)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    };
    (item, inherent)
}
