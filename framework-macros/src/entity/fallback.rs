//! The stand-ins `#[derive(Entity)]` emits beside its errors, built from the same model as the
//! real expansion.
//!
//! Without them, every `CreateProduct { .. }`, every `impl Handle<C> for EntityState<Product>`
//! and every `Vec<ProductEvent>` in the user's code adds its own error to the real mistakes.
//! With the generated events, commands and enums (shaped by what could be read of the
//! attributes) and an `Entity` impl that decides nothing, those items type-check and the
//! compiler reports only the mistakes in `#[entity(...)]`. Nothing here runs: the crate does
//! not compile.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use super::expand::{public_items, sets};
use super::handler::associated_items;
use super::messages;
use super::model::Entity;
use crate::shared::message_sets;
use crate::shared::paths::stand_in_type;

/// The stand-ins for `model`, or nothing when it is generic: a generic struct has no single
/// `Entity` impl to stand in for.
pub(super) fn stand_ins(model: &Entity) -> TokenStream {
    if model.generic {
        return TokenStream::new();
    }
    let sets = sets(model);
    let impls = [
        messages::impls(model),
        message_sets::impls(&sets),
        entity_impl(model),
    ];
    public_items(model, &sets, quote!(#(#impls)*))
}

/// An `Entity` impl that decides nothing.
fn entity_impl(model: &Entity) -> TokenStream {
    let Entity { krate, ident, .. } = model;
    let id = model.id().map_or_else(
        || stand_in_type(krate).to_token_stream(),
        |id| id.ty.to_token_stream(),
    );
    let associated = associated_items(model, &id);
    quote! {
        #[automatically_derived]
        impl #krate::entity::Entity for #ident {
            #associated

            fn decide(
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

            fn evolve(_: &mut #krate::entity::EntityState<Self>, _: &Self::Event) {}

            fn event_instance(_: &Self::Event) -> ::core::option::Option<&Self::Id> {
                ::core::option::Option::None
            }
        }
    }
}
