//! Testing aids: the given/when/then [`AggregateFixture`], and (feature `testing`) the
//! conformance suite every [`EventStore`](crate::store::EventStore) backend must pass.

#[cfg(feature = "testing")]
pub mod conformance;
mod fixture;

pub use fixture::{AggregateFixture, FixtureWhen};
