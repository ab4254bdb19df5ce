//! The stand-ins `#[derive(Aggregate)]` emits beside its errors, as thiserror's `fallback.rs`
//! and clap's `dummies.rs` do, built from the same model as the real expansion.
//!
//! Without them, every `#[command(aggregate = Account)]`, every `impl Handle<C> for Account`
//! and every `Vec<AccountEvent>` in a handler adds its own error to the real mistakes: the
//! `Aggregate` impl and the enums they name were never generated. With an `Aggregate` impl and
//! empty enums of the expected names, those items type-check and the compiler reports only the
//! mistakes in `#[aggregate(...)]`. Nothing here runs: the crate does not compile.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, Path, Visibility};

use super::expand::associated_items;
use super::model::Aggregate;
use crate::shared::dummy::wrap_in_const;
use crate::shared::message_sets::MessageSets;
use crate::shared::paths::stand_in_type;
use crate::shared::type_list::Member;

/// The stand-ins for `model`, or nothing when its shape does not allow them: a generic
/// aggregate has no single `Aggregate` impl to stand in for.
pub(super) fn stand_ins(model: &Aggregate) -> TokenStream {
    if model.generic {
        return TokenStream::new();
    }
    let Aggregate {
        krate, ident, sets, ..
    } = model;
    let MessageSets {
        vis,
        event_enum,
        command_enum,
        events,
        commands,
        ..
    } = sets;
    let enums_fit = event_enum != ident && command_enum != ident && event_enum != command_enum;
    let (event_type, command_type, enums, enum_impls) = if enums_fit {
        let enums = [
            empty_enum(vis, event_enum, ident),
            empty_enum(vis, command_enum, ident),
        ];
        let impls = [
            conversions(event_enum, events),
            event_traits(krate, event_enum),
            conversions(command_enum, commands),
        ];
        (
            quote!(#event_enum),
            quote!(#command_enum),
            quote!(#(#enums)*),
            quote!(#(#impls)*),
        )
    } else {
        let unreachable = stand_in_type(krate);
        let none = TokenStream::new();
        (
            quote!(#unreachable),
            quote!(#unreachable),
            none.clone(),
            none,
        )
    };
    let associated = associated_items(model, &event_type, &command_type);
    let impls = quote! {
        #enum_impls

        #[automatically_derived]
        impl #krate::Aggregate for #ident {
            #associated

            fn decide(
                &self,
                _: Self::Command,
                _: &Self::Services,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<::std::vec::Vec<Self::Event>, Self::Error>,
            > + ::core::marker::Send {
                ::core::future::pending()
            }

            fn evolve(&mut self, event: &Self::Event) {
                match *event {}
            }
        }
    };
    let impls = wrap_in_const(&model.runtime, impls);
    quote!(#enums #impls)
}

/// `enum Name {}` with `Debug`, `Clone` and `PartialEq`.
fn empty_enum(vis: &Visibility, name: &Ident, aggregate: &Ident) -> TokenStream {
    let doc = format!(
        "Stands in for an enum of `{aggregate}` while its `#[aggregate(...)]` has mistakes."
    );
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
        #vis enum #name {}
    }
}

/// `From` each listed type, for an empty enum.
fn conversions(name: &Ident, listed: &[Member]) -> TokenStream {
    let listed = listed.iter().map(|member| &member.ty);
    quote! {
        #(
            #[automatically_derived]
            impl ::core::convert::From<#listed> for #name {
                fn from(_: #listed) -> Self {
                    ::core::unreachable!()
                }
            }
        )*
    }
}

/// Serde and `EventSet` for the empty event enum.
fn event_traits(krate: &Path, name: &Ident) -> TokenStream {
    let serde = quote!(#krate::__private::serde);
    quote! {
        #[automatically_derived]
        impl #serde::Serialize for #name {
            fn serialize<__S>(&self, _: __S) -> ::core::result::Result<__S::Ok, __S::Error>
            where
                __S: #serde::Serializer,
            {
                match *self {}
            }
        }

        #[automatically_derived]
        impl<'de> #serde::Deserialize<'de> for #name {
            fn deserialize<__D>(__deserializer: __D) -> ::core::result::Result<Self, __D::Error>
            where
                __D: #serde::Deserializer<'de>,
            {
                <#krate::__private::Unreachable as #serde::Deserialize<'de>>::deserialize(
                    __deserializer,
                )
                .map(|never| match never {})
            }
        }

        #[automatically_derived]
        impl #krate::EventSet for #name {
            const EVENT_TYPES: &'static [&'static str] = &[];

            fn event_type(&self) -> &'static str {
                match *self {}
            }

            fn event_version(&self) -> u32 {
                match *self {}
            }

            fn encode(&self) -> ::core::result::Result<#krate::__private::JsonValue, #krate::__private::JsonError> {
                match *self {}
            }

            fn decode<'__payload>(
                __event_type: &str,
                __event_version: u32,
                __payload: impl ::core::convert::Into<#krate::event::StoredPayload<'__payload>>,
            ) -> ::core::result::Result<Self, #krate::DecodeError> {
                <#krate::__private::Unreachable as #krate::EventSet>::decode(
                    __event_type,
                    __event_version,
                    __payload,
                )
                .map(|never| match never {})
            }
        }
    }
}
