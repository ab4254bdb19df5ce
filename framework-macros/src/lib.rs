//! Derive macros for [aggregato](https://docs.rs/aggregato): `#[derive(Aggregate)]`,
//! `#[derive(Entity)]`, `#[derive(DomainEvent)]`, `#[derive(Command)]`, `#[derive(Projection)]`, and for sagas
//! `#[derive(Saga)]` with `#[saga_steps]`.
//!
//! Use them through the runtime crate (`use aggregato::prelude::*;`), which re-exports them
//! under its default `derive` feature; the generated code names the runtime by absolute path
//! (`::aggregato` unless `crate = path` says otherwise), so this crate is never named directly.
//!
//! The reference for every derive (its keys, what it generates, examples) is the documentation
//! module `aggregato::_derive` of the runtime crate, where it can link to the runtime's items.
//!
//! Inside, each derive is one folder, `parse -> model -> validate -> expand`: `model.rs` reads
//! the input totally (every mistake is reported, and the model is still built from the rest),
//! `validate.rs` checks the rules darling cannot express, `expand.rs` generates code from the
//! model, and `fallback.rs` (where a derive has stand-ins) generates, from the same model, what
//! is emitted beside the errors. What several derives use is in `shared/`; no derive imports another's folder.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

mod aggregate;
mod command;
mod entity;
mod event;
mod projection;
mod saga;
mod shared;
#[cfg(test)]
mod snapshot;

/// Derives `aggregato::Aggregate` for the struct holding an aggregate's state, and generates
/// its event and command enums, which dispatch to your `Handle<C>` and `Apply<E>` impls.
///
/// See `aggregato::_derive` for the keys of `#[aggregate(...)]`, what is generated, and an
/// example.
#[proc_macro_derive(Aggregate, attributes(aggregate))]
pub fn derive_aggregate(input: TokenStream) -> TokenStream {
    aggregate::expand(input.into()).into()
}

/// Derives `aggregato::DomainEvent`: a stable stored name and a schema version for one event
/// type, and the upcasting from its older schemas.
///
/// See `aggregato::_derive` for the keys of `#[event(...)]` and an example.
#[proc_macro_derive(DomainEvent, attributes(event))]
pub fn derive_domain_event(input: TokenStream) -> TokenStream {
    event::expand(input.into()).into()
}

/// Derives `aggregato::Command`: names the aggregate (or entity) a command targets.
///
/// See `aggregato::_derive` for the keys of `#[command(...)]` and an example.
#[proc_macro_derive(Command, attributes(command))]
pub fn derive_command(input: TokenStream) -> TokenStream {
    command::expand(input.into()).into()
}

/// Derives the whole event-sourced lifecycle of a CRUD entity from its fields: its events,
/// commands, enums, and `aggregato::entity::Entity`, which makes
/// `aggregato::EntityState<Struct>` an `Aggregate`.
///
/// See `aggregato::_derive` for the keys of `#[entity(...)]` on the struct and its fields,
/// the generated handler, and an example.
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    entity::expand(input.into()).into()
}

/// Derives `aggregato::projection::Projection` for the struct holding a read model, and
/// generates the enum of the events it reads, which dispatches to your `Project<E>` impls.
///
/// See `aggregato::_derive` for the keys of `#[projection(...)]`, what is generated, and an
/// example.
#[proc_macro_derive(Projection, attributes(projection))]
pub fn derive_projection(input: TokenStream) -> TokenStream {
    projection::expand(input.into()).into()
}

/// Derives `aggregato::saga::Saga` for the struct holding a saga's data: its stored name and
/// the services its steps receive. The steps are declared with [`macro@saga_steps`].
///
/// See `aggregato::_derive` for the keys of `#[saga(...)]` and an example.
#[proc_macro_derive(Saga, attributes(saga))]
pub fn derive_saga(input: TokenStream) -> TokenStream {
    saga::expand_derive(input.into()).into()
}

/// Declares a saga's steps: implements `aggregato::saga::SagaSteps` from the `#[step(...)]`
/// methods of a [`macro@Saga`] struct's `impl` block, and generates the step enum `{Saga}Step`.
///
/// See `aggregato::_derive` for the step signature, the options of `#[step(...)]` and
/// `#[saga_steps(...)]`, and an example.
#[proc_macro_attribute]
pub fn saga_steps(args: TokenStream, item: TokenStream) -> TokenStream {
    saga::expand_steps(args.into(), item.into()).into()
}

/// Marks a saga step inside an `impl` block under [`macro@saga_steps`], which reads and removes
/// it. Anywhere else it is an error that says to add `#[saga_steps]`.
#[proc_macro_attribute]
pub fn step(_args: TokenStream, item: TokenStream) -> TokenStream {
    saga::stray_step(item.into()).into()
}
