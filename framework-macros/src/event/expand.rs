//! The code `#[derive(DomainEvent)]` generates.

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use syn::{Generics, WhereClause};

use super::model::DomainEvent;

/// `impl DomainEvent for T`.
pub(super) fn domain_event(event: &DomainEvent) -> TokenStream {
    let DomainEvent {
        krate,
        ident,
        generics,
        name,
        version,
    } = event;
    let (impl_generics, type_generics, where_clause) = generics.split_for_impl();
    let where_clause = supertrait_bounds(krate, generics, where_clause);
    let version = Literal::u32_unsuffixed(*version);
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::DomainEvent for #ident #type_generics #where_clause {
            const EVENT_TYPE: &'static str = #name;
            const EVENT_VERSION: u32 = #version;
        }
    }
}

/// The where clause of a generic event: the user's, plus the supertraits of `DomainEvent` on
/// `Self`, which hold only for some type arguments. A non-generic event needs none: there a
/// missing supertrait is the user's mistake and rustc reports it.
fn supertrait_bounds(
    krate: &syn::Path,
    generics: &Generics,
    where_clause: Option<&WhereClause>,
) -> TokenStream {
    if generics.params.is_empty() {
        return quote!(#where_clause);
    }
    let serde = quote!(#krate::__private::serde);
    let predicates = where_clause
        .map(|clause| &clause.predicates)
        .into_iter()
        .flatten();
    quote! {
        where
            #(#predicates,)*
            Self: #serde::Serialize
                + #serde::de::DeserializeOwned
                + ::core::clone::Clone
                + ::core::fmt::Debug
                + ::core::marker::Send
                + ::core::marker::Sync
                + 'static,
    }
}
