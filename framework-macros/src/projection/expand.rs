//! The code `#[derive(Projection)]` generates from a validated [`Projection`].
//!
//! Paths that resolve a listed type's trait impls (`<Self as Project<E>>`,
//! `listed_aggregate_type::<A>()`) and the calls of the hook methods are spanned at the name as the user
//! wrote it, so a missing impl or method is reported there.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::model::Projection;
use crate::shared::dummy::wrap_in_const;
use crate::shared::event_set::stored_name_checks;
use crate::shared::message_sets::{self, MessageSets};
use crate::shared::type_list::Member;

/// Every item the derive generates: the event enum, the impls in a `const _`, and the
/// compile-time checks of the listed events.
pub(super) fn projection(model: &Projection) -> TokenStream {
    let event_enum = public_enum(model);
    let impls = [
        message_sets::event_impls(&model.events),
        projection_impl(model),
    ];
    let impls = wrap_in_const(&model.runtime, quote!(#(#impls)*));
    let checks = stored_name_checks(&model.events, &model.runtime);
    quote!(#event_enum #impls #checks)
}

/// `enum {Struct}Event`, the public item a user names.
pub(super) fn public_enum(model: &Projection) -> TokenStream {
    let doc = format!(
        "The events `{}` reads, one variant per type listed in its `events(...)`.\n\n\
         Serializes as `{{\"type\": name, \"version\": n, \"data\": payload}}`.",
        model.ident
    );
    message_sets::event_enum(&model.events, &doc)
}

fn projection_impl(model: &Projection) -> TokenStream {
    let Projection { krate, ident, .. } = model;
    let MessageSets {
        event_enum, events, ..
    } = &model.events;
    let projection = quote!(#krate::projection);
    let arms = events.iter().map(|Member { ty, variant }| {
        // The whole call, `.await` included, is spanned at the listed type: a missing
        // `Project<E>` impl is then one error there rather than a second one at the derive.
        let project = quote_spanned! {ty.span()=>
            <Self as #projection::Project<#ty>>::project(self, __event, context).await
        };
        quote!(#event_enum::#variant(__event) => #project)
    });
    let associated = associated_items(model, &quote!(#event_enum));
    let filter = filter(model);
    let hooks = [
        hook(model, "reset", model.reset.as_ref()),
        hook(model, "activate", model.activate.as_ref()),
    ];
    quote! {
        #[automatically_derived]
        impl #projection::Projection for #ident {
            #associated

            fn filter() -> #krate::EventFilter {
                #filter
            }

            fn dispatch(
                &mut self,
                event: Self::Event,
                context: &mut #projection::Context<'_, Self::Transaction>,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<(), Self::Error>,
            > + ::core::marker::Send {
                async move {
                    match event {
                        #(#arms,)*
                    }
                }
            }

            #(#hooks)*
        }
    }
}

/// The listed events' stored names and former names, and the listed aggregates' types, each
/// read at the listed type's span.
fn filter(model: &Projection) -> TokenStream {
    let krate = &model.krate;
    let events = model.events.events.iter().map(|Member { ty, .. }| {
        let event = quote_spanned!(ty.span()=> <#ty as #krate::checks::ListedEvent>::EVENT_OPS);
        quote! {
            .event_types([#event.event_type])
            .event_types(#event.aliases.iter().copied())
        }
    });
    let aggregates = (!model.aggregates.is_empty()).then(|| {
        let types = model
            .aggregates
            .iter()
            .map(|ty| quote_spanned!(ty.span()=> #krate::checks::listed_aggregate_type::<#ty>()));
        quote!(.aggregate_types([#(#types),*]))
    });
    quote!(#krate::EventFilter::all() #(#events)* #aggregates)
}

/// `reset` or `activate` (`name`) calling the user's `method`, or nothing without one (the
/// trait's default does nothing). The call is spanned at the method's name in the attribute,
/// where a missing method or a wrong signature is then reported.
fn hook(model: &Projection, name: &str, method: Option<&Ident>) -> Option<TokenStream> {
    let krate = &model.krate;
    let method = method?;
    let name = format_ident!("{name}");
    // The path alone is spanned at the method's name: a missing method is reported there,
    // and a wrong number of parameters too, without a suggestion to edit the attribute.
    let path = quote_spanned!(method.span()=> Self::#method);
    let check = quote_spanned!(method.span()=> #krate::checks::projection_hook::<Self, _>);
    // Awaited in a block of its own: see `checks::projection_hook`.
    let call = quote!(async move { #check(#path(self, transaction)).await });
    Some(quote! {
        fn #name(
            &mut self,
            transaction: &mut Self::Transaction,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<(), Self::Error>,
        > + ::core::marker::Send {
            #call
        }
    })
}

/// The constants and types of `impl Projection`, with the event type given: the generated
/// enum, or what stands in for it.
pub(super) fn associated_items(model: &Projection, event_type: &TokenStream) -> TokenStream {
    let Projection {
        krate,
        name,
        version,
        transaction,
        error,
        ..
    } = model;
    let on_failure = if model.dead_letter {
        quote!(DeadLetter)
    } else {
        quote!(Stop)
    };
    let resettable = model.reset.is_some();
    quote! {
        const NAME: &'static str = #name;
        const VERSION: u32 = #version;
        const ON_FAILURE: #krate::projection::OnFailure = #krate::projection::OnFailure::#on_failure;
        const RESETTABLE: bool = #resettable;
        type Event = #event_type;
        type Transaction = #transaction;
        type Error = #error;
    }
}
