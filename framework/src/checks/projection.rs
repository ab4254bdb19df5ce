//! What `#[derive(Projection)]` requires of the types and methods its attribute names, each
//! requirement a trait whose `#[diagnostic::on_unimplemented]` says, at the name the user
//! wrote, what to change. A listed event without a handler is reported by
//! [`Project`](crate::projection::Project) itself.

use std::future::Future;
use std::pin::Pin;

use crate::aggregate::Aggregate;
use crate::projection::Projection;

/// A type listed in `aggregates(...)` of a projection, whose stored aggregate type the filter
/// reads through [`listed_aggregate_type`], at the listed type's span, so that a type that is
/// no aggregate is one error there, in these words.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is listed in `aggregates(...)` but is not an aggregate",
    label = "listed as an aggregate",
    note = "`aggregates(...)` lists `#[derive(Aggregate)]` types (or `EntityState<...>`), whose aggregate types the projection's filter keeps; event types go in `events(...)`"
)]
pub trait ListedAggregate: Aggregate {}

impl<A: Aggregate> ListedAggregate for A {}

/// [`Aggregate::AGGREGATE_TYPE`] of a type listed in `aggregates(...)`.
pub const fn listed_aggregate_type<A: ListedAggregate>() -> &'static str {
    A::AGGREGATE_TYPE
}

/// What the method named by `reset = ...` or `activate = ...` returns: the future of an
/// `async fn(&mut self, transaction: &mut Self::Transaction) -> Result<(), Self::Error>`.
#[diagnostic::on_unimplemented(
    message = "the method named by `reset = ...` or `activate = ...` of `{P}` must be an `async fn` returning `Result<(), Self::Error>`",
    label = "this method does not return a `Send` future of `Result<(), <{P} as Projection>::Error>`",
    note = "write it `async fn name(&mut self, transaction: &mut <Self as Projection>::Transaction) -> Result<(), <Self as Projection>::Error> {{ .. }}` in an `impl {P}` block; what it holds across an `.await` must be `Send`"
)]
pub trait ProjectionHook<P: Projection>: Future<Output = Result<(), P::Error>> + Send {}

impl<P: Projection, F: Future<Output = Result<(), P::Error>> + Send> ProjectionHook<P> for F {}

/// The check of a hook's future, spanned at the method's name in `reset = ...` or
/// `activate = ...`: an unmet requirement is one error there, in [`ProjectionHook`]'s words.
///
/// The future comes back boxed, as a type that does not depend on the requirement, and the
/// derive awaits it in an `async` block of its own: returned as `F` or as an `impl Future`
/// made from it, the requirement would be checked again on the hook's return type and
/// reported a second time, in the compiler's words. A hook runs once per rebuild or
/// activation, where one allocation does not count.
pub fn projection_hook<'a, P: Projection, F: ProjectionHook<P> + 'a>(
    hook: F,
) -> Pin<Box<dyn Future<Output = Result<(), P::Error>> + Send + 'a>> {
    Box::pin(hook)
}
