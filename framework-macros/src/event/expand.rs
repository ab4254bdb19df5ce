//! The code `#[derive(DomainEvent)]` generates.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

use crate::shared::bounds::exists_when;
use crate::shared::dummy::wrap_in_const;
use crate::shared::respan::respan;

use super::model::DomainEvent;

/// `impl DomainEvent for T`.
pub(super) fn domain_event(event: &DomainEvent) -> TokenStream {
    let DomainEvent {
        runtime,
        krate,
        ident,
        generics,
        name,
        version,
        upcast_from,
        aliases,
        route,
    } = event;
    let (impl_generics, type_generics, _) = generics.split_for_impl();
    let where_clause = exists_when(generics, quote!(#krate::checks::EventData));
    // One check of everything an event must be, at the type; a generic event is checked where
    // it is used with concrete types.
    let check = generics.params.is_empty().then(|| {
        quote_spanned! {ident.span()=>
            const _: () = {
                let _ = #runtime::checks::event_data::<#ident>;
            };
        }
    });
    let version = Literal::u32_unsuffixed(*version);
    let aliases = (!aliases.is_empty())
        .then(|| quote!(const EVENT_ALIASES: &'static [&'static str] = &[#(#aliases),*];));
    let route = route.as_ref().map(|route| {
        quote!(const EVENT_ROUTE: ::core::option::Option<&'static str> = ::core::option::Option::Some(#route);)
    });
    let upcasting = upcast_from
        .as_ref()
        .map(|older| decode_upcasting(event, older));
    let upcast_checks = upcast_from
        .as_ref()
        .map(|older| upcast_checks(event, older));
    let impls = wrap_in_const(
        runtime,
        quote! {
            #[automatically_derived]
            impl #impl_generics #krate::DomainEvent for #ident #type_generics #where_clause {
                const EVENT_TYPE: &'static str = #name;
                const EVENT_VERSION: u32 = #version;
                #aliases
                #route
                #upcasting
            }
        },
    );
    quote!(#impls #check #upcast_checks)
}

/// `decode_stored` through the older schema, spanned at it so that a missing
/// `From<Older>` impl is reported there.
fn decode_upcasting(event: &DomainEvent, older: &Type) -> TokenStream {
    let krate = &event.krate;
    let call = quote_spanned! {older.span()=>
        #krate::checks::decode_upcasting::<Self, #older>(__stored_version, __payload.into())
    };
    quote! {
        fn decode_stored<'__payload>(
            __stored_version: u32,
            __payload: impl ::core::convert::Into<#krate::event::StoredPayload<'__payload>>,
        ) -> ::core::result::Result<Self, #krate::DecodeError> {
            #call
        }
    }
}

/// The older schema must be an older version stored under the same name: a bound per rule on
/// the `Rule` that comparing them gives, whose unmet one says which rule is broken (a const `assert!`
/// would be reported as "evaluation of `_` failed"). In a `const _` beside the impl's, naming
/// the runtime by the user's path.
fn upcast_checks(event: &DomainEvent, older: &Type) -> TokenStream {
    let DomainEvent {
        runtime: krate,
        ident,
        ..
    } = event;
    let schema = |ty: TokenStream| quote!((<#ty as #krate::DomainEvent>::EVENT_TYPE, <#ty as #krate::DomainEvent>::EVENT_VERSION));
    let (older_schema, newer_schema) = (schema(quote!(#older)), schema(quote!(#ident)));
    let verdict = quote!(#krate::checks::upcast_verdict(#older_schema, #newer_schema));
    // Every token at the older schema as the user named it, where the error is then reported.
    let check = respan(
        quote! {
            let _ = #krate::checks::upcasts_from::<
                #ident,
                #older,
                #krate::checks::Rule<{ #verdict != 1 }>,
                #krate::checks::Rule<{ #verdict != 2 }>,
            >;
        },
        older.span(),
    );
    quote!(const _: () = { #check };)
}
