//! `#[derive(Aggregate)]` with generic types, trait objects, lifetimes and tuples in every key
//! that takes a type (`id`, `error`, `services`), written unquoted.
#![deny(warnings, missing_docs)]

use std::fmt::Debug;
use std::sync::Arc;

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

/// Tells the time.
pub trait Clock {
    /// Now, in seconds.
    fn now(&self) -> u64;
}

/// A clock that always says the same.
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.0
    }
}

/// Services with a lifetime and a type parameter.
pub mod my {
    /// A label and a value.
    pub struct Services<'a, T> {
        /// The label.
        pub label: &'a str,
        /// The value.
        pub value: T,
    }
}

/// A generic error.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("rejected: {0:?}")]
pub struct Rejected<T: Debug>(pub T);

/// The timer ticked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct Ticked {
    /// When.
    pub at: u64,
}

/// Ticks a timer.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Timer)]
pub struct Tick;

/// A timer whose services are a shared trait object.
#[derive(Debug, Default, Aggregate)]
#[aggregate(
    id = Arc<str>,
    error = Rejected<(u8, String)>,
    services = Arc<dyn Clock + Send + Sync>,
    events(Ticked),
    commands(Tick),
)]
pub struct Timer {
    last: u64,
}

impl Handle<Tick> for Timer {
    async fn handle(
        &self,
        _: Tick,
        clock: &Arc<dyn Clock + Send + Sync>,
    ) -> Result<Vec<TimerEvent>, Rejected<(u8, String)>> {
        let at = clock.now();
        if at <= self.last {
            return Err(Rejected((0, "the clock went back".to_owned())));
        }
        Ok(vec![Ticked { at }.into()])
    }
}

impl Apply<Ticked> for Timer {
    fn apply(&mut self, event: &Ticked) {
        self.last = event.at;
    }
}

/// Labels a timer.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Labeled)]
pub struct Label;

/// An aggregate whose services have a lifetime and a type argument, and whose id is generic.
#[derive(Debug, Default, Aggregate)]
#[aggregate(
    id = Box<u64>,
    services = my::Services<'static, u8>,
    events(Ticked),
    commands(Label)
)]
pub struct Labeled;

impl Handle<Label> for Labeled {
    async fn handle(
        &self,
        _: Label,
        services: &my::Services<'static, u8>,
    ) -> Result<Vec<LabeledEvent>, std::convert::Infallible> {
        Ok(vec![
            Ticked {
                at: u64::from(services.value),
            }
            .into(),
        ])
    }
}

impl Apply<Ticked> for Labeled {
    fn apply(&mut self, _: &Ticked) {}
}

/// Pairs two timers.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Paired)]
pub struct Pair;

/// An aggregate whose services are a tuple, and whose error is a path with a generic argument.
#[derive(Debug, Default, Aggregate)]
#[aggregate(
    id = u64,
    error = self::Rejected<Vec<u8>>,
    services = (Arc<dyn Clock + Send + Sync>, Vec<u8>),
    events(Ticked),
    commands(Pair),
)]
pub struct Paired;

impl Handle<Pair> for Paired {
    async fn handle(
        &self,
        _: Pair,
        (clock, extra): &(Arc<dyn Clock + Send + Sync>, Vec<u8>),
    ) -> Result<Vec<PairedEvent>, Rejected<Vec<u8>>> {
        if !extra.is_empty() {
            return Err(Rejected(extra.clone()));
        }
        Ok(vec![Ticked { at: clock.now() }.into()])
    }
}

impl Apply<Ticked> for Paired {
    fn apply(&mut self, _: &Ticked) {}
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let clock: Arc<dyn Clock + Send + Sync> = Arc::new(FixedClock(5));
    let repository = Repository::<Timer, _>::new_with_services(InMemoryEventStore::new(), clock);
    let id: Arc<str> = Arc::from("t1");
    let ticked = repository.execute(&id, Tick).await;
    assert_eq!(ticked.map(|events| events.len()).ok(), Some(1));
    let again = repository.execute(&id, Tick).await;
    assert!(again.is_err_and(|error| error.rejection().is_some()));
    assert_eq!(Timer::stream_id(&id), "Timer-t1");

    let services = my::Services {
        label: "l",
        value: 3,
    };
    assert_eq!(services.label, "l");
    AggregateFixture::<Labeled>::new_with_services(services)
        .when(Label)
        .then_events([Ticked { at: 3 }])
        .await;
    assert_eq!(Labeled::stream_id(&Box::new(9)), "Labeled-9");

    let services: (Arc<dyn Clock + Send + Sync>, Vec<u8>) = (Arc::new(FixedClock(1)), vec![7]);
    AggregateFixture::<Paired>::new_with_services(services)
        .when(Pair)
        .then_error(Rejected(vec![7]))
        .await;
}
