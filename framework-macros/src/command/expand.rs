//! The code `#[derive(Command)]` generates.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Generics, WhereClause};

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
    let where_clause = supertrait_bounds(generics, where_clause);
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Command for #ident #type_generics #where_clause {
            type Aggregate = #aggregate;
            const COMMAND_TYPE: &'static str = #name;
        }
    }
}

/// The where clause of a generic command: the user's, plus the supertraits of `Command` on
/// `Self`, which hold only for some type arguments. A non-generic command needs none: there a
/// missing supertrait is the user's mistake and rustc reports it.
fn supertrait_bounds(generics: &Generics, where_clause: Option<&WhereClause>) -> TokenStream {
    if generics.params.is_empty() {
        return quote!(#where_clause);
    }
    let predicates = where_clause
        .map(|clause| &clause.predicates)
        .into_iter()
        .flatten();
    quote! {
        where
            #(#predicates,)*
            Self: ::core::clone::Clone
                + ::core::fmt::Debug
                + ::core::marker::Send
                + ::core::marker::Sync
                + 'static,
    }
}
