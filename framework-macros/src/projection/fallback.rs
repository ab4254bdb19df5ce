//! The stand-ins `#[derive(Projection)]` emits beside its errors, built from the same model as
//! the real expansion.
//!
//! Without them, every `impl Project<E> for Balances` adds its own error to the real
//! mistakes: `Project<E>` requires the `Projection` impl that was never generated. With the
//! event enum and a `Projection` impl that handles nothing, those impls type-check and the
//! compiler reports only the mistakes in `#[projection(...)]`. Nothing here runs: the crate
//! does not compile.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

use super::expand::{associated_items, public_enum};
use super::model::Projection;
use crate::shared::dummy::wrap_in_const;
use crate::shared::message_sets;
use crate::shared::paths::stand_in_type;

/// The stand-ins for `model`, or nothing when it is generic: a generic struct has no single
/// `Projection` impl to stand in for.
pub(super) fn stand_ins(model: &Projection) -> TokenStream {
    if model.generic {
        return TokenStream::new();
    }
    let Projection { krate, ident, .. } = model;
    // An enum without variants cannot be matched through a reference: with no event read,
    // the runtime's stand-in type takes its place.
    let (event_enum, event_type, enum_impls) = if model.events.events.is_empty() {
        let stand_in = stand_in_type(krate).to_token_stream();
        (TokenStream::new(), stand_in, TokenStream::new())
    } else {
        let name = &model.events.event_enum;
        (
            public_enum(model),
            quote!(#name),
            message_sets::event_impls(&model.events),
        )
    };
    let associated = associated_items(model, &event_type);
    let impls = quote! {
        #enum_impls

        #[automatically_derived]
        impl #krate::projection::Projection for #ident {
            #associated

            fn filter() -> #krate::EventFilter {
                #krate::EventFilter::all()
            }

            fn dispatch(
                &mut self,
                _: Self::Event,
                _: &mut #krate::projection::Context<'_, Self::Transaction>,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<(), Self::Error>,
            > + ::core::marker::Send {
                ::core::future::pending()
            }
        }
    };
    let impls = wrap_in_const(&model.runtime, impls);
    quote!(#event_enum #impls)
}
