//! The code `#[derive(Command)]` generates.

use proc_macro2::TokenStream;
use quote::quote;

use super::model::Command;

/// `impl Command for T`.
pub(super) fn command(command: &Command) -> TokenStream {
    let Command {
        krate,
        ident,
        generics,
        aggregate,
        name,
    } = command;
    let (impl_generics, type_generics, where_clause) = generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Command for #ident #type_generics #where_clause {
            type Aggregate = #aggregate;
            const COMMAND_TYPE: &'static str = #name;
        }
    }
}
