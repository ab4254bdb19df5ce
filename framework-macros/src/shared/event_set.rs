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

use super::message_sets::MessageSets;
use super::respan::respan;
use super::type_list::Member;

/// Serde and `EventSet` for the event enum.
pub(crate) fn expand(model: &MessageSets) -> TokenStream {
    let items = [event_serde(model), event_set(model), listing(model)];
    quote!(#(#items)*)
}

/// `<E as ListedEvent>::EVENT_OPS`, spanned at the listed `E`: every use of a listed event
/// reads this one constant, so that one that is not a usable event is one error, at the listed
/// type (the compiler reports identical errors once).
fn as_domain_event(model: &MessageSets, ty: &syn::Path) -> TokenStream {
    let krate = &model.krate;
    quote_spanned!(ty.span()=> <#ty as #krate::checks::ListedEvent>::EVENT_OPS)
}

fn event_serde(model: &MessageSets) -> TokenStream {
    let MessageSets {
        krate, event_enum, ..
    } = model;
    let private = quote!(#krate::__private);
    let serde = quote!(#private::serde);
    let arms = model.events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        // Through the payload, as the stores encode it, rather than the event's own `Serialize`,
        // so that this names no trait of the listed type but through `EVENT_OPS`.
        quote! {
            Self::#variant(__event) => #private::serialize_tagged(
                __serializer,
                #event.event_type,
                #event.event_version,
                &(#event.encode)(__event).map_err(<__S::Error as #serde::ser::Error>::custom)?,
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
    let names = events.iter().map(|Member { ty, .. }| {
        let event = as_domain_event(model, ty);
        quote!(#event.event_type)
    });
    let routes = events.iter().map(|Member { ty, .. }| {
        let event = as_domain_event(model, ty);
        quote! {
            #krate::event::EventRoute {
                event_type: #event.event_type,
                aliases: #event.aliases,
                route: #event.route,
            }
        }
    });
    let type_arms = events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        quote!(Self::#variant(_) => #event.event_type)
    });
    let version_arms = events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        quote!(Self::#variant(_) => #event.event_version)
    });
    let encode_arms = events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        quote!(Self::#variant(__event) => (#event.encode)(__event))
    });
    // The text an append carries, serialized straight from the event (no `Value` between).
    let payload_arms = events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        quote!(Self::#variant(__event) => (#event.payload)(__event))
    });
    let decoders = events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        quote! {
            if __event_type == #event.event_type
                || #event.aliases.contains(&__event_type)
            {
                (#event.decode)(__event_version, __payload).map(Self::#variant)
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #krate::EventSet for #event_enum {
            const EVENT_TYPES: &'static [&'static str] = &[#(#names),*];
            const EVENT_ROUTES: &'static [#krate::event::EventRoute] = &[#(#routes),*];

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
            ) -> ::core::result::Result<#private::JsonValue, #private::JsonError> {
                match self {
                    #(#encode_arms,)*
                }
            }

            fn encode_payload(
                &self,
            ) -> ::core::result::Result<#krate::event::Payload, #private::JsonError> {
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

/// What the stored-name checks read of the event enum: the listed events' versions, and each
/// listed event by its position, so that a check can name the event it clashes with.
fn listing(model: &MessageSets) -> TokenStream {
    let MessageSets {
        krate,
        event_enum,
        events,
        ..
    } = model;
    if events.len() < 2 {
        return TokenStream::new();
    }
    let versions = events.iter().map(|Member { ty, .. }| {
        let event = as_domain_event(model, ty);
        quote!(#event.event_version)
    });
    let nth = events.iter().enumerate().map(|(index, Member { ty, .. })| {
        quote! {
            #[automatically_derived]
            impl #krate::checks::NthEvent<#index> for #event_enum {
                type Event = #ty;
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #krate::checks::EventVersions for #event_enum {
            const EVENT_VERSIONS: &'static [u32] = &[#(#versions),*];
        }

        #(#nth)*
    }
}

/// One compile-time check per listed event that its stored name is not taken by an event
/// listed before it, spanned at the event: the names are only known to the compiler.
///
/// The check is a bound per rule, `Rule<{ name_verdict(..) != 1 }>: NotSameEvent<E, Earlier>`
/// and so on, whose unmet one says which rule is broken and names both events (`Earlier`, the first earlier
/// event of the same name, is found by its position). A const `assert!` could only name the
/// events listed before, and would be reported as "evaluation of `_` failed".
pub(crate) fn stored_name_checks(model: &MessageSets, runtime: &Path) -> TokenStream {
    let krate = runtime;
    let MessageSets { event_enum, .. } = model;
    if model.events.len() < 2 {
        return TokenStream::new();
    }
    let names = quote!(<#event_enum as #krate::EventSet>::EVENT_TYPES);
    let versions = quote!(<#event_enum as #krate::checks::EventVersions>::EVENT_VERSIONS);
    let checks = model
        .events
        .iter()
        .enumerate()
        .skip(1)
        .map(|(index, later)| {
            let ty = &later.ty;
            let verdict = quote!(#krate::checks::name_verdict(#names, #versions, #index));
            let rule = |broken: u8| quote!(#krate::checks::Rule<{ #verdict != #broken }>);
            let (same, older, newer) = (rule(1), rule(3), rule(2));
            // Every token at the listed type, where the error is then reported.
            respan(
                quote! {
                    let _ = #krate::checks::stored_name_is_free::<
                        #ty,
                        <#event_enum as #krate::checks::NthEvent<
                            { #krate::checks::name_clash(#names, #index) },
                        >>::Event,
                        #same,
                        #older,
                        #newer,
                    >;
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
