//! Derive macros for aggregato. Placeholder docs; replaced below.
use proc_macro::TokenStream;

mod aggregate;
mod command;
mod event;
mod paths;
mod validate;

/// Aggregate.
#[proc_macro_derive(Aggregate, attributes(aggregate))]
pub fn derive_aggregate(input: TokenStream) -> TokenStream {
    aggregate::expand(input.into()).into()
}

/// DomainEvent.
#[proc_macro_derive(DomainEvent, attributes(event))]
pub fn derive_domain_event(input: TokenStream) -> TokenStream {
    event::expand(input.into()).into()
}

/// Command.
#[proc_macro_derive(Command, attributes(command))]
pub fn derive_command(input: TokenStream) -> TokenStream {
    command::expand(input.into()).into()
}
