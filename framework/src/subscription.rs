//! Catch-up subscriptions: read the global log from a position, then follow new events.
//!
//! A [`Subscription`] works on every [`EventStore`]: it pages through
//! [`EventStore::read_all`] until it has caught up, then waits for new events, polling at a
//! configurable interval and waking early when the store offers a
//! [`position_watch`](EventStore::position_watch) hint. Because every built-in store
//! guarantees that an event never becomes visible below a position a reader has already
//! passed, a subscription sees every event exactly once, in global order.
//!
//! ```
//! # use aggregato::{EventStore, ExpectedVersion, InMemoryEventStore, Metadata, NewEvent};
//! # use aggregato::subscription::Subscription;
//! # use std::sync::Arc;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), aggregato::StoreError> {
//! let store = Arc::new(InMemoryEventStore::new());
//! let mut subscription = Subscription::new(Arc::clone(&store), 0);
//! # let event = NewEvent { event_id: uuid::Uuid::now_v7(), aggregate_type: "Demo".into(),
//! #     event_type: "Happened".into(), event_version: 1, metadata: Metadata::default(),
//! #     payload: serde_json::json!({}).into() };
//! store.append("demo-1", ExpectedVersion::Any, vec![event]).await?;
//! let first = subscription.next().await?;
//! assert_eq!((first.position, subscription.position()), (1, 1));
//! # Ok(())
//! # }
//! ```
//!
//! A subscription hands out envelopes of raw JSON payloads by default. Made with
//! [`Subscription::of_aggregate`] (or turned with [`Subscription::decoding`]), it hands out an
//! aggregate's typed events instead, decoded straight from what the store holds (JSON text,
//! for the SQL stores) without a `serde_json::Value` in between.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use tokio::sync::watch;

use crate::aggregate::Aggregate;
use crate::event::{EventEnvelope, EventSet};
use crate::store::{CorruptionReason, EventFilter, EventStore, StoreError, StoredEvent};

/// How many events one read fetches unless configured otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 512;

/// How long a caught-up subscription waits before polling again unless configured otherwise.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// What a [`Subscription`] decodes each event's payload into: the stored JSON as it is
/// (`serde_json::Value`, the default), or an aggregate's [`EventSet`].
pub trait SubscribedPayload: Sized + Send {
    /// Decodes the payload of `event`; an error names why it cannot be read.
    fn from_stored(event: &StoredEvent<'_>) -> Result<Self, CorruptionReason>;
}

impl SubscribedPayload for serde_json::Value {
    fn from_stored(event: &StoredEvent<'_>) -> Result<Self, CorruptionReason> {
        event.payload.deserialize().map_err(CorruptionReason::Json)
    }
}

impl<E: EventSet> SubscribedPayload for E {
    fn from_stored(event: &StoredEvent<'_>) -> Result<Self, CorruptionReason> {
        event.decode().map_err(CorruptionReason::Decode)
    }
}

/// A reader of the global event log that catches up from a position and then follows it,
/// handing out envelopes of `P`: the stored JSON (the default) or typed events (see
/// [`Subscription::of_aggregate`]).
pub struct Subscription<S, P = serde_json::Value> {
    store: S,
    /// The position of the last event handed out (0: none yet).
    position: u64,
    /// Which events it delivers; the store applies it in its query.
    filter: EventFilter,
    /// Events read but not yet handed out, in order.
    buffer: VecDeque<EventEnvelope<P>>,
    batch_size: usize,
    poll_interval: Duration,
    /// The store's wake-up hint, while its sender lives.
    wake: Option<watch::Receiver<u64>>,
}

impl<S: EventStore> Subscription<S> {
    /// A subscription that will deliver every event whose position is greater than
    /// `after_position` (0: from the beginning). Resume a projection by passing its stored
    /// checkpoint.
    pub fn new(store: S, after_position: u64) -> Self {
        Self::reading(store, after_position)
    }
}

impl<S: EventStore, E: EventSet> Subscription<S, E> {
    /// A subscription to the events of aggregate `A`, typed: it delivers the events of every
    /// stream of `A` whose position is greater than `after_position`, each decoded into
    /// `A::Event` straight from the stored payload.
    ///
    /// An event that does not decode (stored by another version of the code, say) is a
    /// [`StoreError::Corrupt`] naming its position, after the events before it were
    /// delivered; [`skip_past`](Self::skip_past) goes on after it.
    ///
    /// ```
    /// # use aggregato::prelude::*;
    /// # use aggregato::subscription::Subscription;
    /// # use serde::{Deserialize, Serialize};
    /// # use std::sync::Arc;
    /// # #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
    /// # pub struct Added { pub n: u64 }
    /// # #[derive(Debug, Clone, Command)]
    /// # #[command(aggregate = Tally)]
    /// # pub struct Add { pub n: u64 }
    /// # #[derive(Debug, Default, Aggregate)]
    /// # #[aggregate(id = String, events(Added), commands(Add))]
    /// # pub struct Tally { pub total: u64 }
    /// # impl Handle<Add> for Tally {
    /// #     async fn handle(&self, c: Add, _: &()) -> Result<Vec<TallyEvent>, std::convert::Infallible> {
    /// #         Ok(vec![Added { n: c.n }.into()])
    /// #     }
    /// # }
    /// # impl Apply<Added> for Tally { fn apply(&mut self, e: &Added) { self.total += e.n; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Arc::new(InMemoryEventStore::new());
    /// let tallies = Repository::<Tally, _>::new(Arc::clone(&store));
    /// tallies.execute(&"a".to_owned(), Add { n: 2 }).await?;
    ///
    /// let mut added = Subscription::<_, TallyEvent>::of_aggregate::<Tally>(store, 0);
    /// let event = added.next().await?;
    /// assert!(matches!(event.payload, TallyEvent::Added(Added { n: 2 })));
    /// assert_eq!(event.stream_id, "Tally-a");
    /// # Ok(())
    /// # }
    /// ```
    pub fn of_aggregate<A: Aggregate<Event = E>>(store: S, after_position: u64) -> Self {
        Self::reading(store, after_position)
            .with_filter(EventFilter::all().aggregate_types([A::AGGREGATE_TYPE]))
    }
}

impl<S: EventStore, P: SubscribedPayload> Subscription<S, P> {
    fn reading(store: S, after_position: u64) -> Self {
        let wake = store.position_watch();
        Self {
            store,
            position: after_position,
            filter: EventFilter::all(),
            buffer: VecDeque::new(),
            batch_size: DEFAULT_BATCH_SIZE,
            poll_interval: DEFAULT_POLL_INTERVAL,
            wake,
        }
    }

    /// The same subscription, delivering envelopes of `Q` (an aggregate's [`EventSet`], say)
    /// from its current position. Events already read but not handed out are read again.
    pub fn decoding<Q: SubscribedPayload>(self) -> Subscription<S, Q> {
        Subscription {
            store: self.store,
            position: self.position,
            filter: self.filter,
            buffer: VecDeque::new(),
            batch_size: self.batch_size,
            poll_interval: self.poll_interval,
            wake: self.wake,
        }
    }

    /// Delivers only the events that pass `filter` (by aggregate type and event type); the
    /// store skips the others in its query. [`position`](Self::position) is then the
    /// position of the last event delivered, a checkpoint that resumes the same filtered
    /// subscription.
    ///
    /// ```
    /// # use aggregato::{EventFilter, InMemoryEventStore};
    /// # use aggregato::subscription::Subscription;
    /// # use std::sync::Arc;
    /// let store = Arc::new(InMemoryEventStore::new());
    /// let filter = EventFilter::all()
    ///     .aggregate_types(["BankAccount"])
    ///     .event_types(["MoneyDeposited"]);
    /// let deposits = Subscription::new(Arc::clone(&store), 0).with_filter(filter.clone());
    /// assert_eq!(deposits.filter(), &filter);
    /// ```
    pub fn with_filter(mut self, filter: EventFilter) -> Self {
        self.filter = filter;
        self
    }

    /// The filter the subscription reads with ([`EventFilter::all`] unless set).
    pub fn filter(&self) -> &EventFilter {
        &self.filter
    }

    /// Sets how many events one read fetches (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Sets how long a caught-up subscription waits between polls. A store's wake-up hint
    /// can end the wait sooner.
    pub fn with_poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    /// The position of the last event this subscription handed out: the checkpoint to store.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Moves the subscription past `position`: events up to it are not delivered. This is how
    /// a consumer goes on after an event it cannot read: [`StoreError::Corrupt`] names the
    /// event's position, and the events before it were delivered first. What is skipped is
    /// gone for this subscription, so record it (a log line, a dead-letter table) first.
    /// A position at or before the current one changes nothing.
    pub fn skip_past(&mut self, position: u64) {
        if position > self.position {
            self.position = position;
            self.buffer.retain(|event| event.position > position);
        }
    }

    /// The next event, waiting for one to be appended if the subscription has caught up.
    pub async fn next(&mut self) -> Result<EventEnvelope<P>, StoreError> {
        loop {
            if let Some(event) = self.take_buffered() {
                return Ok(event);
            }
            if !self.fill().await? {
                self.wait_for_more().await;
            }
        }
    }

    /// The next events, at least one, waiting if the subscription has caught up.
    pub async fn next_batch(&mut self) -> Result<Vec<EventEnvelope<P>>, StoreError> {
        let first = self.next().await?;
        let mut batch = Vec::with_capacity(1 + self.buffer.len());
        batch.push(first);
        while let Some(event) = self.take_buffered() {
            batch.push(event);
        }
        Ok(batch)
    }

    /// The events available now, without waiting: empty when the subscription has caught up.
    pub async fn poll(&mut self) -> Result<Vec<EventEnvelope<P>>, StoreError> {
        if self.buffer.is_empty() {
            self.fill().await?;
        }
        let mut batch = Vec::with_capacity(self.buffer.len());
        while let Some(event) = self.take_buffered() {
            batch.push(event);
        }
        Ok(batch)
    }

    fn take_buffered(&mut self) -> Option<EventEnvelope<P>> {
        let event = self.buffer.pop_front()?;
        self.position = event.position;
        Some(event)
    }

    /// Reads the next page after the last buffered or delivered event; whether it got any.
    async fn fill(&mut self) -> Result<bool, StoreError> {
        let after = self
            .buffer
            .back()
            .map_or(self.position, |last| last.position);
        // Mark the hint as seen before reading, so an append that lands after this read
        // still wakes the next wait.
        if let Some(wake) = &mut self.wake {
            wake.borrow_and_update();
        }
        let buffered = self.buffer.len();
        let buffer = &mut self.buffer;
        let read = self
            .store
            .visit_all(after, self.batch_size, &self.filter, &mut |event| {
                let payload = P::from_stored(&event).map_err(|reason| event.corrupt(reason))?;
                buffer.push_back(event.to_envelope(payload));
                Ok(())
            })
            .await;
        let got_any = self.buffer.len() > buffered;
        match read {
            // The events before one that cannot be read go out first; the next read starts
            // after them and meets it again, then as the error.
            Err(_) if got_any => Ok(true),
            Err(error) => Err(error),
            Ok(()) => Ok(got_any),
        }
    }

    async fn wait_for_more(&mut self) {
        let Some(wake) = &mut self.wake else {
            tokio::time::sleep(self.poll_interval).await;
            return;
        };
        tokio::select! {
            changed = wake.changed() => {
                if changed.is_err() {
                    // The store is gone from this process; polling still works.
                    self.wake = None;
                }
            }
            () = tokio::time::sleep(self.poll_interval) => {}
        }
    }
}

impl<S: fmt::Debug, P> fmt::Debug for Subscription<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("store", &self.store)
            .field("position", &self.position)
            .field("filter", &self.filter)
            .field("buffered", &self.buffer.len())
            .field("batch_size", &self.batch_size)
            .field("poll_interval", &self.poll_interval)
            .field("has_wake_hint", &self.wake.is_some())
            .finish()
    }
}
