//! Testing aids: the given/when/then [`AggregateFixture`], the given/then
//! [`ProjectionFixture`], [`GoldenEvents`] files that keep
//! stored history readable, and (feature `testing`) the conformance suite every
//! [`EventStore`](crate::store::EventStore) backend must pass.

#[cfg(feature = "testing")]
pub mod checkpoints;
#[cfg(feature = "testing")]
pub mod conformance;
mod fixture;
pub mod golden;
#[cfg(all(feature = "testing", feature = "privacy"))]
pub mod keys;
mod projection;

pub use fixture::{AggregateFixture, FixtureWhen};
pub use golden::{GoldenError, GoldenEvents, GoldenReport};
pub use projection::ProjectionFixture;
