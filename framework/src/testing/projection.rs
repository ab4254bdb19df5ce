//! Given events, then the read model: a projection tested without a store or a runner.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::event::{EventEnvelope, EventSet, Metadata};
use crate::projection::{Context, Projection};

/// Hands events to a projection as a runner would (typed, with envelopes that number
/// versions per stream and positions globally, through the projection's filter), with no
/// store: the read model's state is then the projection's.
///
/// ```
/// # use aggregato::prelude::*;
/// # use aggregato::projection::{BoxError, Context};
/// # use aggregato::testing::ProjectionFixture;
/// # use serde::{Deserialize, Serialize};
/// #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
/// pub struct Added { pub n: u64 }
///
/// #[derive(Default, Projection)]
/// #[projection(events(Added))]
/// struct Totals { per_stream: std::collections::HashMap<String, u64> }
///
/// impl Project<Added> for Totals {
///     async fn project(&mut self, event: Added, context: &mut Context<'_, ()>) -> Result<(), BoxError> {
///         *self.per_stream.entry(context.aggregate_id().to_owned()).or_default() += event.n;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let totals = ProjectionFixture::new(Totals::default())
///     .given("Tally-a", [Added { n: 2 }, Added { n: 3 }]).await?
///     .given("Tally-b", [Added { n: 7 }]).await?
///     .into_projection();
/// assert_eq!(totals.per_stream["a"], 5);
/// assert_eq!(totals.per_stream["b"], 7);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ProjectionFixture<P> {
    projection: P,
    position: u64,
    versions: HashMap<String, u64>,
    replaying: bool,
    /// The time stamped on the next events; the current time when `None`.
    recorded_at: Option<OffsetDateTime>,
}

impl<P> ProjectionFixture<P>
where
    P: Projection,
    P::Event: EventSet,
{
    /// A fixture around `projection`, before any event.
    pub fn new(projection: P) -> Self {
        Self {
            projection,
            position: 0,
            versions: HashMap::new(),
            replaying: false,
            recorded_at: None,
        }
    }

    /// Hands the next events out as replays ([`Context::is_replay`]), or not.
    pub fn replaying(mut self, replaying: bool) -> Self {
        self.replaying = replaying;
        self
    }

    /// Stamps the next events as recorded at `time` (by default, the time they are given):
    /// for read models that group by day or hour.
    pub fn at(mut self, time: OffsetDateTime) -> Self {
        self.recorded_at = Some(time);
        self
    }

    /// Appends `events` to `stream` (named `"{aggregate type}-{id}"`) and hands each to the
    /// projection, for a projection whose transaction is `()` (or another `Default`).
    pub async fn given<E>(
        self,
        stream: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<Self, P::Error>
    where
        E: Into<P::Event>,
        P::Transaction: Default,
    {
        let mut transaction = P::Transaction::default();
        self.given_in(&mut transaction, stream, events).await
    }

    /// [`given`](Self::given), writing through `transaction` (a connection to a test
    /// database, say).
    pub async fn given_in<E>(
        mut self,
        transaction: &mut P::Transaction,
        stream: &str,
        events: impl IntoIterator<Item = E>,
    ) -> Result<Self, P::Error>
    where
        E: Into<P::Event>,
    {
        let aggregate_type = stream.split_once('-').map_or(stream, |(prefix, _)| prefix);
        let filter = P::filter();
        for event in events {
            let event: P::Event = event.into();
            // What the runner's filter would keep from it, the fixture keeps too.
            if !filter.matches(aggregate_type, event.event_type()) {
                continue;
            }
            self.position += 1;
            let version = self.versions.entry(stream.to_owned()).or_default();
            *version += 1;
            let envelope = EventEnvelope {
                event_id: Uuid::now_v7(),
                stream_id: stream.to_owned(),
                aggregate_type: aggregate_type.to_owned(),
                version: *version,
                position: self.position,
                recorded_at: self.recorded_at.unwrap_or_else(OffsetDateTime::now_utc),
                event_type: event.event_type().to_owned(),
                event_version: event.event_version(),
                metadata: Metadata::default(),
                payload: (),
            };
            let mut context = Context::new(&envelope, &mut *transaction, self.replaying);
            self.projection.dispatch(event, &mut context).await?;
        }
        Ok(self)
    }

    /// The projection, to look at its read model.
    pub fn projection(&self) -> &P {
        &self.projection
    }

    /// The projection, the fixture dropped.
    pub fn into_projection(self) -> P {
        self.projection
    }
}
