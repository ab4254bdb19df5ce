//! Where clauses for impls on generic user types.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Generics;

/// The where clause of an impl of a trait with supertraits on the user's type: the user's own
/// predicates, plus `Self: supertraits` when the type is generic, since the supertraits then
/// hold only for some type arguments. A non-generic type gets only its own clause: there a
/// missing supertrait is the user's mistake and rustc reports it.
pub(crate) fn with_supertraits(generics: &Generics, supertraits: TokenStream) -> TokenStream {
    let where_clause = &generics.where_clause;
    if generics.params.is_empty() {
        return quote!(#where_clause);
    }
    let predicates = where_clause
        .iter()
        .flat_map(|clause| clause.predicates.iter());
    quote! {
        where
            #(#predicates,)*
            Self: #supertraits,
    }
}

/// The supertraits every event and command shares.
pub(crate) fn message_supertraits() -> TokenStream {
    quote! {
        ::core::clone::Clone
            + ::core::fmt::Debug
            + ::core::marker::Send
            + ::core::marker::Sync
            + 'static
    }
}
