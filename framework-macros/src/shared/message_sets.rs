//! The event and command enums of an aggregate or entity and their conversions: the public
//! items a user names (`BankAccountEvent`, `BankAccountCommand`). Their encoding is in
//! [`super::event_set`].

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, Path, Visibility};

use super::diagnostics::display_path;
use super::event_set;
use super::type_list::Member;

/// What the enums are generated from: the shared part of an aggregate's and an entity's model.
/// `krate` is the runtime crate as the impls name it, inside their `const _`.
pub(crate) struct MessageSets {
    pub(crate) krate: Path,
    pub(crate) vis: Visibility,
    pub(crate) event_enum: Ident,
    pub(crate) command_enum: Ident,
    pub(crate) events: Vec<Member>,
    pub(crate) commands: Vec<Member>,
}

/// The doc comments of the generated enums.
pub(crate) struct EnumDocs {
    pub(crate) events: String,
    pub(crate) commands: String,
}

/// The event and command enums: the public items a user names, which go outside the
/// `const _` of the impls.
pub(crate) fn enums(model: &MessageSets, docs: &EnumDocs) -> TokenStream {
    let MessageSets {
        vis,
        event_enum,
        command_enum,
        events,
        commands,
        ..
    } = model;
    let variants = |members: &[Member], what: &str| -> Vec<TokenStream> {
        members
            .iter()
            .map(|Member { ty, variant }| {
                let doc = format!("The {what} `{}`.", display_path(ty));
                quote!(#[doc = #doc] #variant(#ty))
            })
            .collect()
    };
    let (event_variants, command_variants) =
        (variants(events, "event"), variants(commands, "command"));
    let (event_doc, command_doc) = (&docs.events, &docs.commands);
    quote! {
        #[doc = #event_doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis enum #event_enum {
            #(#event_variants,)*
        }

        #[doc = #command_doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis enum #command_enum {
            #(#command_variants,)*
        }
    }
}

/// The impls of the enums: `PartialEq` of the event enum, `From` each listed type, and the
/// event enum's encoding. They name the runtime by `model.krate`, inside a `const _`.
pub(crate) fn impls(model: &MessageSets) -> TokenStream {
    let items = [
        event_partial_eq(model),
        conversions(&model.event_enum, &model.events),
        conversions(&model.command_enum, &model.commands),
        event_set::expand(model),
    ];
    quote!(#(#items)*)
}

/// `PartialEq` variant by variant. The `for<'__a>` binder makes each bound non-trivial, so
/// the impl exists only when every event is `PartialEq` instead of being an error when one
/// is not.
fn event_partial_eq(model: &MessageSets) -> TokenStream {
    let MessageSets {
        event_enum, events, ..
    } = model;
    let bounds = events.iter().map(|Member { ty, .. }| ty);
    let arms = events.iter().map(|Member { variant, .. }| {
        quote!((Self::#variant(__left), Self::#variant(__right)) => __left == __right)
    });
    let mismatch = (events.len() > 1).then(|| quote!(_ => false,));
    quote! {
        #[automatically_derived]
        impl ::core::cmp::PartialEq for #event_enum
        where
            #(for<'__a> #bounds: ::core::cmp::PartialEq,)*
        {
            fn eq(&self, __other: &Self) -> bool {
                match (self, __other) {
                    #(#arms,)*
                    #mismatch
                }
            }
        }
    }
}

fn conversions(target: &Ident, members: &[Member]) -> TokenStream {
    let impls = members.iter().map(|Member { ty, variant }| {
        quote! {
            #[automatically_derived]
            impl ::core::convert::From<#ty> for #target {
                fn from(value: #ty) -> Self {
                    Self::#variant(value)
                }
            }
        }
    });
    quote!(#(#impls)*)
}
