//! The stand-ins `#[derive(Entity)]` emits beside its errors, as the aggregate derive does.
//!
//! With an `Entity` impl and empty enums of the expected names, the user's `Handle` and
//! `Apply` impls for `EntityState<Struct>` and the `Vec<StructEvent>` in their signatures
//! type-check, so the compiler reports only the mistakes in `#[entity(...)]`. The generated
//! events and commands themselves are not stood in for: their fields depend on the attributes
//! that have the mistakes. Nothing here runs: the crate does not compile.

use darling::FromDeriveInput;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, Path, Type, Visibility};

use crate::aggregate::fallback::{Lenient, empty_enum, event_traits};
use crate::paths::{infallible, runtime_crate, unit_type};

/// What could be read of `#[entity(...)]`.
#[derive(FromDeriveInput)]
#[darling(attributes(entity), allow_unknown_fields)]
struct Known {
    vis: Visibility,
    error: Option<Lenient<Type>>,
    services: Option<Lenient<Type>>,
    #[darling(rename = "crate")]
    krate: Option<Lenient<Path>>,
}

/// The stand-ins for the entity `input`, or nothing when its shape does not allow them: a
/// generic struct has no single `Entity` impl to stand in for, and a mistake in a key that
/// darling rejects outright leaves nothing to read.
pub(super) fn stand_ins(input: &DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        return TokenStream::new();
    }
    let Ok(known) = Known::from_derive_input(input) else {
        return TokenStream::new();
    };
    let krate = runtime_crate(known.krate.and_then(Lenient::into_inner));
    let unreachable = quote!(#krate::__private::Unreachable);
    let or_unreachable =
        |ty: Option<Type>| ty.map_or_else(|| unreachable.clone(), |ty| quote!(#ty));
    let error = or_unreachable(known.error.map_or(Some(infallible()), Lenient::into_inner));
    let services = or_unreachable(
        known
            .services
            .map_or(Some(unit_type()), Lenient::into_inner),
    );
    let ident = &input.ident;
    let event_enum = format_ident!("{ident}Event");
    let command_enum = format_ident!("{ident}Command");
    let enums = [
        empty_enum(&known.vis, &event_enum, ident, "entity", Vec::new()),
        event_traits(&krate, &event_enum),
        empty_enum(&known.vis, &command_enum, ident, "entity", Vec::new()),
    ];
    let type_name = ident.to_string();
    quote! {
        #(#enums)*

        #[automatically_derived]
        impl #krate::entity::Entity for #ident {
            const ENTITY_TYPE: &'static str = #type_name;
            type Id = #unreachable;
            type Event = #event_enum;
            type Command = #command_enum;
            type Error = #error;
            type Services = #services;

            fn handle(
                _: &#krate::entity::EntityState<Self>,
                _: Self::Command,
                _: &Self::Services,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<
                    ::std::vec::Vec<Self::Event>,
                    #krate::entity::EntityError<Self::Error>,
                >,
            > + ::core::marker::Send {
                ::core::future::pending()
            }

            fn apply(_: &mut #krate::entity::EntityState<Self>, event: &Self::Event) {
                match *event {}
            }
        }
    }
}
