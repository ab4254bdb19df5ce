//! The compile-time check that each listed command targets the aggregate that lists it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path};

use super::message_sets::MessageSets;
use super::type_list::Member;

/// Each listed command must target this aggregate; the check is spanned at the listed type.
///
/// The bound sits on the command's target (`<C as Command>::Aggregate: __CommandOf<C>`) rather
/// than on `C` itself, so that a command of another aggregate is reported with our message
/// naming both, instead of as a type mismatch of an associated type.
///
/// A `const _` of its own, beside the `const _` of the impls, naming the runtime by `runtime`
/// (the user's path), so that rustc names the helper `_::__targets_this_aggregate`.
///
/// `target` is the aggregate type, which `target_name` spells for messages: the struct itself,
/// or `EntityState<Struct>` for an entity; `attribute` is what a command of it says, such as
/// `aggregate = Struct`.
pub(crate) fn expand(
    model: &MessageSets,
    runtime: &Path,
    owner: &Ident,
    target: &TokenStream,
    target_name: &str,
    attribute: &str,
) -> TokenStream {
    let krate = runtime;
    let MessageSets { commands, .. } = model;
    let message =
        format!("`{{C}}` is listed in `commands(...)` of `{target_name}` but targets `{{Self}}`");
    let label = format!("a command of `{{Self}}`, not of `{target_name}`");
    let note = format!(
        "write `#[command({attribute})]` on `{{C}}`, or remove `{{C}}` from `commands(...)`"
    );
    // Named after the aggregate, so that rustc does not point at the same-named helper of
    // another aggregate as a "similarly named trait".
    let command_of = format_ident!("__CommandOf{}", owner);
    let checks = commands
        .iter()
        .map(|Member { ty, .. }| quote_spanned!(ty.span()=> __targets_this_aggregate::<#ty>));
    quote! {
        const _: () = {
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            trait #command_of<C> {}

            impl<C> #command_of<C> for #target {}

            fn __targets_this_aggregate<C>()
            where
                C: #krate::Command,
                <C as #krate::Command>::Aggregate: #command_of<C>,
            {
            }

            #(let _ = #checks;)*
        };
    }
}
