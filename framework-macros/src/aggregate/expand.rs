//! The code `#[derive(Aggregate)]` generates from a validated [`Aggregate`].
//!
//! Paths that resolve a listed type's trait impls (`<Self as Handle<C>>`, `<E as DomainEvent>`)
//! are spanned at the type as the user listed it, so a missing impl is reported there.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::Aggregate;
use crate::shared::command_checks::{self, Owner};
use crate::shared::dummy::wrap_in_const;
use crate::shared::event_set::stored_name_checks;
use crate::shared::message_sets::{self, EnumDocs, MessageSets};
use crate::shared::type_list::Member;

/// Every item the derive generates: the enums, the impls in a `const _`, and the
/// compile-time checks of the listed types.
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
    let impls = [message_sets::impls(&model.sets), aggregate_impl(model)];
    let checks = [
        stored_name_checks(&model.sets, &model.runtime),
        command_checks::expand(&model.sets, &model.runtime, &Owner::Aggregate(ident)),
    ];
    let enums = message_sets::enums(&model.sets, &docs);
    let impls = wrap_in_const(&model.runtime, quote!(#(#impls)*));
    quote!(#enums #impls #(#checks)*)
}

fn aggregate_impl(model: &Aggregate) -> TokenStream {
    let Aggregate {
        krate, ident, sets, ..
    } = model;
    let MessageSets {
        event_enum,
        command_enum,
        events,
        commands,
        ..
    } = sets;
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
    let associated = associated_items(model, &quote!(#event_enum), &quote!(#command_enum));
    quote! {
        #[automatically_derived]
        impl #krate::Aggregate for #ident {
            #associated

            fn decide(
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

            fn evolve(&mut self, event: &Self::Event) {
                match event {
                    #(#apply_arms,)*
                }
            }
        }
    }
}

/// The constants, types and initial state of `impl Aggregate`, with the event and command
/// types given: the generated enums, or what stands in for them.
pub(super) fn associated_items(
    model: &Aggregate,
    event_type: &TokenStream,
    command_type: &TokenStream,
) -> TokenStream {
    let Aggregate {
        type_name,
        snapshot_version,
        id,
        error,
        services,
        ..
    } = model;
    let snapshot_version =
        snapshot_version.map(|version| quote! { const SNAPSHOT_VERSION: u32 = #version; });
    let (krate, ident) = (&model.krate, &model.ident);
    // `initial = path` is called, spanned at the path, so that a wrong one is reported there;
    // else `Default`, at the aggregate's name, so that a missing one is reported there.
    let initial_state = match &model.initial {
        Some(initial) => quote_spanned!(initial.span()=> #initial()),
        None => quote_spanned!(ident.span()=> #krate::checks::initial_state::<#ident>()),
    };
    quote! {
        const AGGREGATE_TYPE: &'static str = #type_name;
        #snapshot_version
        type Id = #id;
        type Event = #event_type;
        type Command = #command_type;
        type Error = #error;
        type Services = #services;

        fn initial_state() -> Self {
            #initial_state
        }
    }
}
