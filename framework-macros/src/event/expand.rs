//! The code `#[derive(DomainEvent)]` generates.

use proc_macro2::TokenStream;
use quote::quote;

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
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::DomainEvent for #ident #type_generics #where_clause {
            const EVENT_TYPE: &'static str = #name;
            const EVENT_VERSION: u32 = #version;
        }
    }
}
