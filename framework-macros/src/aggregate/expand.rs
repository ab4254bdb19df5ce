//! The code `#[derive(Aggregate)]` generates from a validated [`Aggregate`].
//!
//! Paths that resolve a listed type's trait impls (`<Self as Handle<C>>`, `<E as DomainEvent>`)
//! are spanned at the type as the user listed it, so a missing impl is reported there.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{Aggregate, Member};
use crate::validate::display_path;

/// Every item the derive generates.
pub(super) fn aggregate(model: &Aggregate) -> TokenStream {
    let ident = &model.ident;
    let docs = EnumDocs {
        events: format!(
            "The events of `{ident}`, one variant per type listed in its `events(...)`.\n\n\
             Serializes as `{{\"type\": name, \"version\": n, \"data\": payload}}`."
        ),
        commands: format!(
            "The commands of `{ident}`, one variant per type listed in its `commands(...)`."
        ),
    };
    let items = [
        message_sets(model, &docs),
        command_checks(
            model,
            &quote!(#ident),
            &ident.to_string(),
            &format!("aggregate = {ident}"),
        ),
        aggregate_impl(model),
    ];
    quote!(#(#items)*)
}

/// The doc comments of the generated enums.
pub(crate) struct EnumDocs {
    pub(crate) events: String,
    pub(crate) commands: String,
}

/// The event and command enums, their conversions and their encoding: everything but the
/// checks of the listed commands and the `Aggregate` impl. `#[derive(Entity)]` shares it.
pub(crate) fn message_sets(model: &Aggregate, docs: &EnumDocs) -> TokenStream {
    let items = [
        event_enum(model, &docs.events),
        event_conversions(model),
        event_serde(model),
        event_set(model),
        command_enum(model, &docs.commands),
    ];
    quote!(#(#items)*)
}

fn event_enum(model: &Aggregate, doc: &str) -> TokenStream {
    let Aggregate {
        vis,
        event_enum,
        events,
        ..
    } = model;
    let variants = events.iter().map(|Member { ty, variant }| {
        let doc = format!("The event `{}`.", display_path(ty));
        quote!(#[doc = #doc] #variant(#ty))
    });
    let bounds = events.iter().map(|Member { ty, .. }| ty);
    let arms = events.iter().map(|Member { variant, .. }| {
        quote!((Self::#variant(__left), Self::#variant(__right)) => __left == __right)
    });
    let mismatch = (events.len() > 1).then(|| quote!(_ => false,));
    // The `for<'__a>` binder makes each bound non-trivial, so the impl exists only when every
    // event is `PartialEq` instead of being an error when one is not.
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis enum #event_enum {
            #(#variants,)*
        }

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

fn event_conversions(model: &Aggregate) -> TokenStream {
    conversions(&model.event_enum, &model.events)
}

fn conversions(target: &syn::Ident, members: &[Member]) -> TokenStream {
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

/// `<E as DomainEvent>`, spanned at the listed `E`.
fn as_domain_event(model: &Aggregate, ty: &syn::Path) -> TokenStream {
    let krate = &model.krate;
    quote_spanned!(ty.span()=> <#ty as #krate::DomainEvent>)
}

fn event_serde(model: &Aggregate) -> TokenStream {
    let Aggregate {
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

fn event_set(model: &Aggregate) -> TokenStream {
    let Aggregate {
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
    let decoders = events.iter().map(|Member { ty, variant }| {
        let event = as_domain_event(model, ty);
        quote! {
            if __event_type == #event::EVENT_TYPE {
                #event::decode_stored(__event_version, __payload).map(Self::#variant)
            }
        }
    });
    let distinct_names = distinct_names(model);
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

        #distinct_names
    }
}

/// One compile-time check per listed event that its stored name is not taken by an event
/// listed before it, spanned at the event: the names are only known to the compiler.
fn distinct_names(model: &Aggregate) -> TokenStream {
    let Aggregate {
        krate, event_enum, ..
    } = model;
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

fn command_enum(model: &Aggregate, doc: &str) -> TokenStream {
    let Aggregate {
        vis,
        command_enum,
        commands,
        ..
    } = model;
    let variants = commands.iter().map(|Member { ty, variant }| {
        let doc = format!("The command `{}`.", display_path(ty));
        quote!(#[doc = #doc] #variant(#ty))
    });
    let conversions = conversions(command_enum, commands);
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone)]
        #vis enum #command_enum {
            #(#variants,)*
        }

        #conversions
    }
}

/// Each listed command must target this aggregate; the check is spanned at the listed type.
///
/// The bound sits on the command's target (`<C as Command>::Aggregate: __CommandOf<C>`) rather
/// than on `C` itself, so that a command of another aggregate is reported with our message
/// naming both, instead of as a type mismatch of an associated type.
///
/// `target` is the aggregate type, which `target_name` spells for messages: the struct itself,
/// or `EntityState<Struct>` for an entity; `attribute` is what a command of it says, such as
/// `aggregate = Struct`.
pub(crate) fn command_checks(
    model: &Aggregate,
    target: &TokenStream,
    target_name: &str,
    attribute: &str,
) -> TokenStream {
    let Aggregate {
        krate,
        ident,
        commands,
        ..
    } = model;
    let message =
        format!("`{{C}}` is listed in `commands(...)` of `{target_name}` but targets `{{Self}}`");
    let label = format!("a command of `{{Self}}`, not of `{target_name}`");
    let note = format!(
        "write `#[command({attribute})]` on `{{C}}`, or remove `{{C}}` from `commands(...)`"
    );
    // Named after the aggregate, so that rustc does not point at the same-named helper of
    // another aggregate as a "similarly named trait".
    let command_of = format_ident!("__CommandOf{}", ident);
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

fn aggregate_impl(model: &Aggregate) -> TokenStream {
    let Aggregate {
        krate,
        ident,
        type_name,
        id,
        error,
        services,
        event_enum,
        command_enum,
        events,
        commands,
        ..
    } = model;
    let handle_arms = commands.iter().map(|Member { ty, variant }| {
        // The whole call, `.await` included, is spanned at the listed type: a missing handler
        // is then one error there rather than a second one at the derive.
        let handle = quote_spanned! {ty.span()=>
            <Self as #krate::Handle<#ty>>::handle(self, __command, services).await
        };
        quote!(#command_enum::#variant(__command) => #handle)
    });
    let apply_arms = events.iter().map(|Member { ty, variant }| {
        let apply = quote_spanned!(ty.span()=> <Self as #krate::Apply<#ty>>::apply);
        quote!(#event_enum::#variant(__event) => #apply(self, __event))
    });
    quote! {
        #[automatically_derived]
        impl #krate::Aggregate for #ident {
            const AGGREGATE_TYPE: &'static str = #type_name;
            type Id = #id;
            type Event = #event_enum;
            type Command = #command_enum;
            type Error = #error;
            type Services = #services;

            fn handle(
                &self,
                command: Self::Command,
                services: &Self::Services,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<::std::vec::Vec<Self::Event>, Self::Error>,
            > + ::core::marker::Send {
                async move {
                    match command {
                        #(#handle_arms,)*
                    }
                }
            }

            fn apply(&mut self, event: &Self::Event) {
                match event {
                    #(#apply_arms,)*
                }
            }
        }
    }
}
