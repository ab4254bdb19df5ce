//! The encoding of a generated event enum: serde as `{"type", "version", "data"}`, the
//! `EventSet` impl that decodes each stored event through its type's `DomainEvent`, and the
//! compile-time checks that no two listed events share a stored name.
//!
//! Paths that resolve a listed type's trait impls (`<E as DomainEvent>`) are spanned at the
//! type as the user listed it, so a missing impl is reported there.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Path;
use syn::spanned::Spanned;

use super::diagnostics::display_path;
use super::message_sets::MessageSets;
use super::type_list::Member;

/// Serde and `EventSet` for the event enum.
pub(crate) fn expand(model: &MessageSets) -> TokenStream {
    let items = [event_serde(model), event_set(model)];
    quote!(#(#items)*)
}

/// `<E as DomainEvent>`, spanned at the listed `E`.
fn as_domain_event(model: &MessageSets, ty: &syn::Path) -> TokenStream {
    let krate = &model.krate;
    quote_spanned!(ty.span()=> <#ty as #krate::DomainEvent>)
}

fn event_serde(model: &MessageSets) -> TokenStream {
    let MessageSets {
        krate, event_enum, ..
    } = model;
    let private = quote!(#krate::__private);
    let serde = quote!(#private::serde);
    let arms = model.events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        quote! {
            Self::#variant(__event) => #private::serialize_tagged(
                __serializer,
                #event::EVENT_TYPE,
                #event::EVENT_VERSION,
                __event,
            )
        }
    });
    quote! {
        #[automatically_derived]
        impl #serde::Serialize for #event_enum {
            fn serialize<__S>(
                &self,
                __serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error>
            where
                __S: #serde::Serializer,
            {
                match self {
                    #(#arms,)*
                }
            }
        }

        #[automatically_derived]
        impl<'de> #serde::Deserialize<'de> for #event_enum {
            fn deserialize<__D>(__deserializer: __D) -> ::core::result::Result<Self, __D::Error>
            where
                __D: #serde::Deserializer<'de>,
            {
                let __tagged =
                    <#private::TaggedEvent as #serde::Deserialize<'de>>::deserialize(__deserializer)?;
                <Self as #krate::EventSet>::decode(
                    &__tagged.event_type,
                    __tagged.version,
                    &__tagged.data,
                )
                .map_err(<__D::Error as #serde::de::Error>::custom)
            }
        }
    }
}

fn event_set(model: &MessageSets) -> TokenStream {
    let MessageSets {
        krate,
        event_enum,
        events,
        ..
    } = model;
    let private = quote!(#krate::__private);
    let json = quote!(#private::serde_json);
    let names = events.iter().map(|Member { ty, .. }| {
        let event = as_domain_event(model, ty);
        quote!(#event::EVENT_TYPE)
    });
    let type_arms = events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        quote!(Self::#variant(_) => #event::EVENT_TYPE)
    });
    let version_arms = events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        quote!(Self::#variant(_) => #event::EVENT_VERSION)
    });
    let encode_arms = events
        .iter()
        .map(|Member { variant, .. }| quote!(Self::#variant(__event) => #krate::event::to_payload(__event)));
    // The text an append carries, serialized straight from the event (no `Value` between).
    let payload_arms = events
        .iter()
        .map(|Member { variant, .. }| quote!(Self::#variant(__event) => #krate::event::Payload::encode(__event)));
    let decoders = events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        quote! {
            if __event_type == #event::EVENT_TYPE {
                #event::decode_stored(__event_version, __payload).map(Self::#variant)
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #krate::EventSet for #event_enum {
            const EVENT_TYPES: &'static [&'static str] = &[#(#names),*];

            fn event_type(&self) -> &'static str {
                match self {
                    #(#type_arms,)*
                }
            }

            fn event_version(&self) -> u32 {
                match self {
                    #(#version_arms,)*
                }
            }

            fn encode(
                &self,
            ) -> ::core::result::Result<#json::Value, #json::Error> {
                match self {
                    #(#encode_arms,)*
                }
            }

            fn encode_payload(
                &self,
            ) -> ::core::result::Result<#krate::event::Payload, #json::Error> {
                match self {
                    #(#payload_arms,)*
                }
            }

            fn decode<'__payload>(
                __event_type: &str,
                __event_version: u32,
                __payload: impl ::core::convert::Into<#krate::event::StoredPayload<'__payload>>,
            ) -> ::core::result::Result<Self, #krate::DecodeError> {
                let __payload: #krate::event::StoredPayload<'__payload> = __payload.into();
                #(#decoders else)* {
                    ::core::result::Result::Err(#krate::DecodeError::UnknownEventType {
                        event_type: ::std::borrow::ToOwned::to_owned(__event_type),
                    })
                }
            }
        }
    }
}

/// One compile-time check per listed event that its stored name is not taken by an event
/// listed before it, spanned at the event: the names are only known to the compiler.
///
/// Each check is a `const _` of its own, beside the `const _` of the impls rather than in it,
/// naming the runtime by `runtime` (the user's path): each failing check is then reported, and
/// reported as the evaluation of `_`.
pub(crate) fn stored_name_checks(model: &MessageSets, runtime: &Path) -> TokenStream {
    let krate = runtime;
    let MessageSets { event_enum, .. } = model;
    let events = &model.events;
    let checks = events.iter().enumerate().skip(1).map(|(index, later)| {
        let earlier: Vec<String> = events[..index]
            .iter()
            .map(|member| format!("`{}`", display_path(&member.ty)))
            .collect();
        let earlier = match earlier.as_slice() {
            [one] => one.clone(),
            many => format!("one of {}", many.join(", ")),
        };
        let message = format!(
            "`{}` in `events(...)` shares its stored name with {earlier}: give one of them \
             #[event(name = \"...\")]",
            display_path(&later.ty),
        );
        quote_spanned! {later.ty.span()=>
            const _: () = ::core::assert!(
                !#krate::__private::repeats_earlier(
                    <#event_enum as #krate::EventSet>::EVENT_TYPES,
                    #index,
                ),
                #message,
            );
        }
    });
    quote!(#(#checks)*)
}
