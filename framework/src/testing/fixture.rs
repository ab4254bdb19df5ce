//! Given/when/then tests of one aggregate's decisions, without a store, but with the store's
//! encoding: every event a command emits is encoded as a store would keep it and decoded back,
//! and the state evolves by what was read back, so an event that cannot be stored faithfully
//! (a `NaN`, a lossy serde attribute) fails the fixture instead of a load in production.

use std::fmt::Debug;

use crate::aggregate::Aggregate;
use crate::checks::{CommandOf, EventOf};
use crate::event::{DecodeError, EventSet};

/// A given/when/then test of one aggregate: given past events, when a command, then the
/// events it produces or the error it is rejected with.
///
/// ```
/// # use aggregato::prelude::*;
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
/// # pub struct Incremented { by: u32 }
/// # #[derive(Debug, Clone, Command)]
/// # #[command(aggregate = Counter)]
/// # pub struct Increment { by: u32 }
/// # #[derive(Debug, Default, Aggregate)]
/// # #[aggregate(id = String, events(Incremented), commands(Increment))]
/// # pub struct Counter { total: u32 }
/// # impl Handle<Increment> for Counter {
/// #     async fn handle(&self, c: Increment, _: &()) -> Result<Vec<CounterEvent>, std::convert::Infallible> {
/// #         Ok(vec![Incremented { by: c.by }.into()])
/// #     }
/// # }
/// # impl Apply<Incremented> for Counter {
/// #     fn apply(&mut self, e: &Incremented) { self.total += e.by; }
/// # }
/// # tokio_test_block_on(async {
/// let state = AggregateFixture::<Counter>::new()
///     .given([Incremented { by: 2 }])
///     .when(Increment { by: 3 })
///     .then_events([Incremented { by: 3 }])
///     .await;
/// assert_eq!(state.total, 5);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct AggregateFixture<A: Aggregate> {
    services: A::Services,
    state: A,
}

impl<A: Aggregate> AggregateFixture<A>
where
    A::Services: Default,
{
    /// A fixture with default services and no past events.
    pub fn new() -> Self {
        Self::new_with_services(A::Services::default())
    }
}

impl<A: Aggregate> Default for AggregateFixture<A>
where
    A::Services: Default,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Aggregate> AggregateFixture<A> {
    /// A fixture whose handlers receive `services`.
    pub fn new_with_services(services: A::Services) -> Self {
        Self {
            services,
            state: A::initial_state(),
        }
    }

    /// Applies past events, in order.
    pub fn given<E: EventOf<A>>(mut self, events: impl IntoIterator<Item = E>) -> Self {
        for event in events {
            self.state.evolve(&event.into());
        }
        self
    }

    /// Applies a past event as a store holds it: its stored name, schema version and JSON
    /// payload, decoded as a load decodes it. This is how a test feeds payloads stored under
    /// an older schema, to check that `upcast_from` reads them.
    ///
    /// # Panics
    /// When the payload does not decode: this is a test assertion.
    #[track_caller]
    pub fn given_stored(
        mut self,
        event_type: &str,
        event_version: u32,
        payload: serde_json::Value,
    ) -> Self {
        let decoded = A::Event::decode(event_type, event_version, &payload);
        assert!(
            decoded.is_ok(),
            "the stored `{event_type}` v{event_version} event {payload} does not decode: {}",
            decoded
                .as_ref()
                .err()
                .map_or_else(String::new, ToString::to_string)
        );
        if let Ok(event) = decoded {
            self.state.evolve(&event);
        }
        self
    }

    /// The command under test.
    pub fn when(self, command: impl CommandOf<A>) -> FixtureWhen<A> {
        FixtureWhen {
            fixture: self,
            command: command.into(),
        }
    }
}

/// A fixture with its command, waiting for the expectation.
pub struct FixtureWhen<A: Aggregate> {
    fixture: AggregateFixture<A>,
    command: A::Command,
}

impl<A: Aggregate> FixtureWhen<A> {
    /// Runs the command and returns what the aggregate decided, with the state after applying
    /// the events on success. The events are encoded as a store keeps them and decoded back,
    /// and the state evolves by the decoded ones, as a later load would.
    ///
    /// # Panics
    /// When an event cannot be encoded, or does not decode from its own encoding: it could
    /// not be stored, or not be loaded once stored.
    pub async fn outcome(self) -> (Result<Vec<A::Event>, A::Error>, A) {
        let (decided, state, _) = self.run().await;
        (decided, state)
    }

    /// Decides, round-trips the events through their stored form, and evolves the state by
    /// what was read back; also returns the events as read back.
    async fn run(self) -> (Result<Vec<A::Event>, A::Error>, A, Vec<A::Event>) {
        let AggregateFixture {
            services,
            mut state,
        } = self.fixture;
        let decided = state.decide(self.command, &services).await;
        let mut read_back = Vec::new();
        if let Ok(events) = &decided {
            for event in events {
                let decoded = round_trip(event);
                assert!(
                    decoded.is_ok(),
                    "{}",
                    decoded.as_ref().err().map_or("", String::as_str)
                );
                if let Ok(decoded) = decoded {
                    state.evolve(&decoded);
                    read_back.push(decoded);
                }
            }
        }
        (decided, state, read_back)
    }

    /// Asserts that the command produces exactly `expected`, in order, and returns the state
    /// after applying them.
    ///
    /// # Panics
    /// When the command is rejected or produces other events: this is a test assertion.
    #[track_caller]
    pub fn then_events<E: EventOf<A>>(
        self,
        expected: impl IntoIterator<Item = E>,
    ) -> impl Future<Output = A>
    where
        A::Event: PartialEq,
        A::Error: Debug,
    {
        let expected: Vec<A::Event> = expected.into_iter().map(Into::into).collect();
        let caller = std::panic::Location::caller();
        async move {
            let (decided, state, read_back) = self.run().await;
            assert!(
                decided.is_ok(),
                "expected events {expected:?}, but the command was rejected with {:?} (fixture at {caller})",
                decided.as_ref().err()
            );
            if let Ok(events) = decided {
                assert_eq!(
                    events, expected,
                    "the command produced other events than expected (fixture at {caller})"
                );
                for (event, decoded) in events.iter().zip(&read_back) {
                    assert!(
                        event == decoded,
                        "the event {event:?} does not survive being stored: it reads back as \
                         {decoded:?} (a lossy serde attribute, a skipped field?), so a load would \
                         build another state than the one that decided (fixture at {caller})"
                    );
                }
            }
            state
        }
    }

    /// Asserts that the command is accepted but changes nothing (produces no event), and
    /// returns the unchanged state.
    ///
    /// # Panics
    /// When the command is rejected or produces events: this is a test assertion.
    #[track_caller]
    pub fn then_no_events(self) -> impl Future<Output = A>
    where
        A::Event: PartialEq,
        A::Error: Debug,
    {
        self.then_events(std::iter::empty::<A::Event>())
    }

    /// Asserts that the command is rejected with `expected`.
    ///
    /// # Panics
    /// When the command succeeds or fails otherwise: this is a test assertion.
    #[track_caller]
    pub fn then_error(self, expected: A::Error) -> impl Future<Output = ()>
    where
        A::Event: Debug,
        A::Error: PartialEq + Debug,
    {
        let caller = std::panic::Location::caller();
        async move {
            let decided = self.outcome().await.0;
            assert!(
                decided.is_err(),
                "expected the error {expected:?}, but the command produced {:?} (fixture at {caller})",
                decided.as_ref().ok()
            );
            if let Err(error) = decided {
                assert_eq!(
                    error, expected,
                    "the command was rejected with another error (fixture at {caller})"
                );
            }
        }
    }
}

/// `event` encoded as a store keeps it and decoded back, or why it cannot be.
fn round_trip<E: EventSet>(event: &E) -> Result<E, String> {
    let event_type = event.event_type();
    let payload = event
        .encode()
        .map_err(|error| format!("the event {event:?} cannot be stored: {error}"))?;
    E::decode(event_type, event.event_version(), &payload).map_err(|error: DecodeError| {
        format!("the event {event:?} does not read back from its stored form {payload}: {error}")
    })
}
