//! The event and command enums of an aggregate or entity and their conversions: the public
//! items a user names (`BankAccountEvent`, `BankAccountCommand`). Their encoding is in
//! [`super::event_set`].

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Ident, Path, Visibility};

use super::diagnostics::display_path;
use super::event_set;
use super::respan::respan;
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

impl MessageSets {
    /// The model of an event enum without a command enum, as a projection has: no commands,
    /// and a command enum name that only [`enums`] and [`impls`] would read, which such a
    /// model is never given to ([`event_enum`] and [`event_impls`] are).
    pub(crate) fn events_only(
        krate: Path,
        vis: Visibility,
        event_enum: Ident,
        events: Vec<Member>,
    ) -> Self {
        Self {
            krate,
            vis,
            command_enum: event_enum.clone(),
            event_enum,
            events,
            commands: Vec::new(),
        }
    }
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
    let events = enum_item(vis, event_enum, &docs.events, events, "event");
    let commands = enum_item(vis, command_enum, &docs.commands, commands, "command");
    quote!(#events #commands)
}

/// The event enum alone, for a model whose command half is empty (a projection's): see
/// [`MessageSets::events_only`].
pub(crate) fn event_enum(model: &MessageSets, doc: &str) -> TokenStream {
    enum_item(&model.vis, &model.event_enum, doc, &model.events, "event")
}

/// One enum, a variant per member; `what` ("event", "command") words the variants' docs.
fn enum_item(
    vis: &Visibility,
    name: &Ident,
    doc: &str,
    members: &[Member],
    what: &str,
) -> TokenStream {
    let variants = members.iter().map(|Member { ty, variant }| {
        let doc = format!("The {what} `{}`.", display_path(ty));
        quote!(#[doc = #doc] #variant(#ty))
    });
    // The variants are named after the listed types, which often share the aggregate's name
    // (`GadgetCreated`, `GadgetUpdated`, ...): that is the user's naming, not a lint to
    // raise in their crate.
    quote! {
        #[doc = #doc]
        #[allow(clippy::enum_variant_names)]
        #vis enum #name {
            #(#variants,)*
        }
    }
}

/// The impls of the enums: `PartialEq` of the event enum, `From` each listed type, and the
/// event enum's encoding. They name the runtime by `model.krate`, inside a `const _`.
pub(crate) fn impls(model: &MessageSets) -> TokenStream {
    let items = [
        clone_debug(model, &model.event_enum, &model.events, "Event"),
        clone_debug(model, &model.command_enum, &model.commands, "Command"),
        event_partial_eq(model),
        conversions(&model.event_enum, &model.events),
        conversions(&model.command_enum, &model.commands),
        event_set::expand(model),
    ];
    quote!(#(#items)*)
}

/// The impls of the event enum alone (`Clone`, `Debug`, `PartialEq`, `From` each listed event,
/// its encoding), for a model whose command half is empty: see [`MessageSets::events_only`].
pub(crate) fn event_impls(model: &MessageSets) -> TokenStream {
    let items = [
        clone_debug(model, &model.event_enum, &model.events, "Event"),
        event_partial_eq(model),
        conversions(&model.event_enum, &model.events),
        event_set::expand(model),
    ];
    quote!(#(#items)*)
}

/// `Clone` and `Debug` variant by variant, as derived, but reaching each listed type's through
/// the runtime's `ListedEvent::EVENT_OPS` or `ListedCommand::COMMAND_OPS` (`through` is `Event`
/// or `Command`), spanned at the listed type as every other use of it: a listed type without them is one error there, not one per use.
fn clone_debug(
    model: &MessageSets,
    name: &Ident,
    members: &[Member],
    through: &str,
) -> TokenStream {
    let krate = &model.krate;
    let (listed, ops) = (
        Ident::new(&format!("Listed{through}"), Span::call_site()),
        Ident::new(
            &format!("{}_OPS", through.to_uppercase()),
            Span::call_site(),
        ),
    );
    let clone_arms = members.iter().map(|Member { ty, variant }| {
        let clone = respan(
            quote!((<#ty as #krate::checks::#listed>::#ops.clone)),
            ty.span(),
        );
        quote!(Self::#variant(__value) => Self::#variant(#clone(__value)))
    });
    let debug_arms = members.iter().map(|Member { ty, variant }| {
        let debug = respan(
            quote!((<#ty as #krate::checks::#listed>::#ops.debug)),
            ty.span(),
        );
        let variant_name = variant.to_string();
        quote! {
            Self::#variant(__value) => __formatter
                .debug_tuple(#variant_name)
                .field(#debug(__value))
                .finish()
        }
    });
    quote! {
        #[automatically_derived]
        impl ::core::clone::Clone for #name {
            #[inline]
            fn clone(&self) -> Self {
                match self {
                    #(#clone_arms,)*
                }
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Debug for #name {
            fn fmt(&self, __formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self {
                    #(#debug_arms,)*
                }
            }
        }
    }
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
