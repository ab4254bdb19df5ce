//! The code `#[derive(Command)]` generates.

use proc_macro2::TokenStream;
use quote::quote;

use super::model::Command;
use crate::shared::bounds::{message_supertraits, with_supertraits};
use crate::shared::dummy::wrap_in_const;

/// `impl Command for T`, in a `const _`; nothing when the target is unknown.
pub(super) fn command(command: &Command) -> TokenStream {
    let Command {
        runtime,
        krate,
        ident,
        generics,
        aggregate,
        name,
    } = command;
    let (impl_generics, type_generics, _) = generics.split_for_impl();
    let where_clause = with_supertraits(generics, message_supertraits());
    let Some(aggregate) = aggregate else {
        return TokenStream::new();
    };
    wrap_in_const(
        runtime,
        quote! {
            #[automatically_derived]
            impl #impl_generics #krate::Command for #ident #type_generics #where_clause {
                type Aggregate = #aggregate;
                const COMMAND_TYPE: &'static str = #name;
            }
        },
    )
}
