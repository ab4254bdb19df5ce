//! The code `#[derive(Entity)]` generates from its model: the messages and enums the user
//! names, then every impl in one `const _`. The pieces are in [`super::messages`],
//! [`super::handler`] and the shared [`message_sets`].

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, Path};

use super::handler::entity_impl;
use super::messages;
use super::model::Entity;
use crate::shared::command_checks::{self, Owner};
use crate::shared::dummy::wrap_in_const;
use crate::shared::event_set::stored_name_checks;
use crate::shared::message_sets::{self, EnumDocs, MessageSets};
use crate::shared::type_list::Member;

/// Every item the derive generates.
pub(super) fn entity(model: &Entity) -> TokenStream {
    let sets = sets(model);
    let ident = &model.ident;
    let impls = [
        messages::impls(model),
        message_sets::impls(&sets),
        entity_impl(model),
    ];
    let runtime = &model.runtime;
    let checks = [
        stored_name_checks(&sets, runtime),
        command_checks::expand(&sets, runtime, &Owner::Entity(ident)),
    ];
    let items = public_items(model, &sets, quote!(#(#impls)*));
    quote!(#items #(#checks)*)
}

/// The messages and enums the user names, then `impls` in a `const _`.
pub(super) fn public_items(model: &Entity, sets: &MessageSets, impls: TokenStream) -> TokenStream {
    let messages = messages::structs(model);
    let enums = message_sets::enums(sets, &enum_docs(model));
    let impls = wrap_in_const(&model.runtime, impls);
    quote!(#messages #enums #impls)
}

/// The event and command enums' part of the model: the generated messages, then the added ones.
pub(super) fn sets(model: &Entity) -> MessageSets {
    let members = |generated: [&Ident; 3], extra: &[Member]| -> Vec<Member> {
        let generated = generated.into_iter().map(|name| Member {
            ty: Path::from(name.clone()),
            variant: name.clone(),
        });
        let extra = extra.iter().map(|member| Member {
            ty: member.ty.clone(),
            variant: member.variant.clone(),
        });
        generated.chain(extra).collect()
    };
    MessageSets {
        krate: model.krate.clone(),
        vis: model.vis.clone(),
        event_enum: model.names.event_enum.clone(),
        command_enum: model.names.command_enum.clone(),
        events: members(model.names.events(), &model.extra_events),
        commands: members(model.names.commands(), &model.extra_commands),
    }
}

/// The doc comments of the event and command enums.
fn enum_docs(model: &Entity) -> EnumDocs {
    let Entity { ident, names, .. } = model;
    let list = |generated: [&Ident; 3], key: &str| {
        format!(
            "`{}`, `{}` and `{}`, then the types listed in its `{key}(...)`",
            generated[0], generated[1], generated[2]
        )
    };
    EnumDocs {
        events: format!(
            "The events of the entity `{ident}`: {}.\n\n\
             Serializes as `{{\"type\": name, \"version\": n, \"data\": payload}}`.",
            list(names.events(), "events")
        ),
        commands: format!(
            "The commands of the entity `{ident}`: {}.",
            list(names.commands(), "commands")
        ),
    }
}
