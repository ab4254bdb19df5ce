//! The stand-ins `#[derive(Entity)]` emits beside its errors, as the aggregate derive does.
//!
//! Without them, every `CreateProduct { .. }`, every `impl Handle<C> for EntityState<Product>`
//! and every `Vec<ProductEvent>` in the user's code adds its own error to the real mistakes.
//! With the generated events, commands and enums (shaped by what could be read of the
//! attributes) and an `Entity` impl that decides nothing, those items type-check and the
//! compiler reports only the mistakes in `#[entity(...)]`. Nothing here runs: the crate does
//! not compile.

use darling::util::Flag;
use darling::{FromField, FromMeta};
use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Data, DataStruct, DeriveInput, Fields, Ident, Path, Type};

use super::expand::{commands, enum_docs, events, sets_model};
use super::model::{Entity, Field, Names, Role, TYPE_KEYS};
use crate::aggregate::expand::message_sets;
use crate::aggregate::fallback::{Lenient, Listed, listed};
use crate::aggregate::model::Member;
use crate::attribute;
use crate::paths::{infallible, runtime_crate, unit_type};

/// What could be read of `#[entity(...)]` on the struct.
#[derive(FromMeta)]
#[darling(allow_unknown_fields)]
struct Known {
    error: Option<Lenient<Type>>,
    services: Option<Lenient<Type>>,
    events: Option<Lenient<Listed>>,
    commands: Option<Lenient<Listed>>,
    #[darling(rename = "crate")]
    krate: Option<Lenient<Path>>,
}

/// What could be read of `#[entity(...)]` on a field.
#[derive(FromField)]
#[darling(attributes(entity), allow_unknown_fields)]
struct KnownField {
    ident: Option<Ident>,
    ty: Type,
    id: Flag,
    readonly: Flag,
    skip: Flag,
}

/// The stand-ins for the entity `input`, or nothing when its shape does not allow them: a
/// generic struct has no single `Entity` impl to stand in for, and a struct attribute that
/// cannot be read even leniently leaves nothing to build on.
pub(super) fn stand_ins(input: &DeriveInput) -> TokenStream {
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        return TokenStream::new();
    }
    let items = attribute::items(&input.attrs, "entity", TYPE_KEYS);
    let Ok(known) = Known::from_list(&items) else {
        return TokenStream::new();
    };
    let model = lenient_model(input, known);
    let sets = sets_model(&model);
    let items = [
        events(&model),
        commands(&model),
        message_sets(&sets, &enum_docs(&model)),
        entity_impl(&model),
    ];
    quote!(#(#items)*)
}

/// The entity as far as it can be read: fields with the roles their flags give, the added
/// types that do not clash, no validators.
fn lenient_model(input: &DeriveInput, known: Known) -> Entity {
    let ident = input.ident.clone();
    let krate = runtime_crate(known.krate.and_then(Lenient::into_inner));
    let or = |ty: Option<Lenient<Type>>, default: fn() -> Type| {
        ty.map_or_else(|| Some(default()), Lenient::into_inner)
            .unwrap_or_else(|| syn::parse_quote!(#krate::__private::Unreachable))
    };
    let names = Names::of(&ident);
    let extra_events = added(listed(known.events), &names.events());
    let extra_commands = added(listed(known.commands), &names.commands());
    Entity {
        error: or(known.error, infallible),
        services: or(known.services, unit_type),
        krate,
        vis: input.vis.clone(),
        type_name: ident.to_string(),
        ident,
        version: 1,
        validate: None,
        fields: fields(input),
        names,
        extra_events,
        extra_commands,
    }
}

/// The fields with the roles their flags give; none for a struct without named fields.
fn fields(input: &DeriveInput) -> Vec<Field> {
    let Data::Struct(DataStruct {
        fields: Fields::Named(named),
        ..
    }) = &input.data
    else {
        return Vec::new();
    };
    named
        .named
        .iter()
        .filter_map(|field| {
            let known = KnownField::from_field(field).ok()?;
            let role = if known.id.is_present() {
                Role::Id
            } else if known.skip.is_present() {
                Role::Skip
            } else if known.readonly.is_present() {
                Role::Readonly
            } else {
                Role::Updatable
            };
            Some(Field {
                ident: known.ident?,
                ty: known.ty,
                role,
                validate: None,
            })
        })
        .collect()
}

/// The added types whose variants clash neither with a generated one nor with each other.
fn added(paths: Vec<Path>, generated: &[&Ident]) -> Vec<Member> {
    let mut members: Vec<Member> = Vec::new();
    for ty in paths {
        let Some(variant) = ty.segments.last().map(|segment| segment.ident.clone()) else {
            continue;
        };
        let clashes =
            generated.contains(&&variant) || members.iter().any(|member| member.variant == variant);
        if !clashes {
            members.push(Member { ty, variant });
        }
    }
    members
}

/// An `Entity` impl that decides nothing.
fn entity_impl(model: &Entity) -> TokenStream {
    let Entity {
        krate,
        ident,
        error,
        services,
        names,
        ..
    } = model;
    let unreachable = quote!(#krate::__private::Unreachable);
    let id = model
        .id()
        .map_or_else(|| unreachable.clone(), |id| id.ty.to_token_stream());
    let (event_enum, command_enum) = (&names.event_enum, &names.command_enum);
    let type_name = ident.to_string();
    quote! {
        #[automatically_derived]
        impl #krate::entity::Entity for #ident {
            const ENTITY_TYPE: &'static str = #type_name;
            type Id = #id;
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

            fn apply(_: &mut #krate::entity::EntityState<Self>, _: &Self::Event) {}

            fn event_instance(_: &Self::Event) -> ::core::option::Option<&Self::Id> {
                ::core::option::Option::None
            }
        }
    }
}
