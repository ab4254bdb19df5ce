//! The compile-time check that each listed command targets the aggregate that lists it.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Path;
use syn::spanned::Spanned;

use super::message_sets::MessageSets;
use super::respan::respan;
use super::type_list::Member;

/// Whom the listed commands must target.
pub(crate) enum Owner<'a> {
    /// The aggregate struct itself.
    Aggregate(&'a syn::Ident),
    /// `EntityState<Entity>`.
    Entity(&'a syn::Ident),
}

/// Each listed command must target this aggregate (or entity); the check is spanned at the
/// listed type.
///
/// The runtime's check puts the bound on the command's target
/// (`SameAggregate<A, C>`), read from the same `ListedCommand::COMMAND_OPS` as every other use
/// of a listed command, so that a listed type that is no command is one error, and a
/// command of another aggregate is reported with its message naming both, instead of as a type
/// mismatch of an associated type. A `const _` of its own, naming the runtime by `runtime` (the
/// user's path).
pub(crate) fn expand(model: &MessageSets, runtime: &Path, owner: &Owner<'_>) -> TokenStream {
    let krate = runtime;
    let (check, target) = match owner {
        Owner::Aggregate(ident) => (quote!(listed_by), ident),
        Owner::Entity(ident) => (quote!(listed_by_entity), ident),
    };
    // Every token at the listed type, the runtime's path included, as in the enums' uses of
    // `COMMAND_OPS`: a listed type that is no usable command is then the same error at the
    // same place in both, which the compiler shows once.
    let checks = model.commands.iter().map(|Member { ty, .. }| {
        respan(
            quote! {
                #krate::checks::#check::<#target, #ty, _>(
                    &<#ty as #krate::checks::ListedCommand>::COMMAND_OPS,
                );
            },
            ty.span(),
        )
    });
    quote! {
        const _: () = {
            #(#checks)*
        };
    }
}
