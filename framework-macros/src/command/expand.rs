//! The code `#[derive(Command)]` generates.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use super::model::Command;
use crate::shared::bounds::exists_when;
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
    let where_clause = exists_when(generics, quote!(#krate::checks::CommandData));
    let Some(aggregate) = aggregate else {
        return TokenStream::new();
    };
    // One check of what a command must be, at the type: see the event derive.
    let check = generics.params.is_empty().then(|| {
        quote_spanned! {ident.span()=>
            const _: () = {
                let _ = #runtime::checks::command_data::<#ident>;
            };
        }
    });
    let impls = wrap_in_const(
        runtime,
        quote! {
            // Not recommended: when the command lacks `Clone` or `Debug`, a use of it is
            // reported as "not a command", the same words at every use so that the compiler
            // shows them once, and the check at the type says what to add.
            #[automatically_derived]
            #[diagnostic::do_not_recommend]
            impl #impl_generics #krate::Command for #ident #type_generics #where_clause {
                type Aggregate = #aggregate;
                const COMMAND_TYPE: &'static str = #name;
            }
        },
    );
    quote!(#impls #check)
}
