//! Where clauses for the impls the derives generate on user types.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Generics;

/// The where clause of an impl that exists only when `Self: requirement`, so that an unmet
/// requirement is reported once, by the derive's own check at the type, rather than by the
/// impl and again by every use of it: the user's own predicates, plus `Self: requirement`,
/// under a `for<'__a>` binder when the type is not generic, which makes the bound non-trivial
/// (a trivially false bound would be an error of its own).
pub(crate) fn exists_when(generics: &Generics, requirement: TokenStream) -> TokenStream {
    let predicates = generics
        .where_clause
        .iter()
        .flat_map(|clause| clause.predicates.iter());
    let binder = generics.params.is_empty().then(|| quote!(for<'__a>));
    quote! {
        where
            #(#predicates,)*
            #binder Self: #requirement,
    }
}
