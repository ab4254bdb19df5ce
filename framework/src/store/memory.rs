//! A non-durable event store in process memory, for tests, demos and benchmarks.
//!
//! It is a real store, not a mock: it enforces expected versions, stores batches atomically
//! and is safe under concurrent appenders, because one lock guards the whole log and every
//! check happens under it. It loses everything when the process ends.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use tokio::sync::watch;

use super::{EventStore, ExpectedVersion, Snapshot, SnapshotStore, StoreError};
use crate::event::{EventEnvelope, NewEvent};

/// An [`EventStore`] (and [`SnapshotStore`]) held in memory.
#[derive(Debug)]
pub struct InMemoryEventStore {
    log: Mutex<Log>,
    snapshots: Mutex<HashMap<String, Snapshot>>,
    /// The newest position, for subscribers waiting on new events.
    head: watch::Sender<u64>,
}

impl Default for InMemoryEventStore {
    fn default() -> Self {
        Self {
            log: Mutex::default(),
            snapshots: Mutex::default(),
            head: watch::Sender::new(0),
        }
    }
}

#[derive(Debug, Default)]
struct Log {
    /// Every event in global order; `events[i].position == i + 1`.
    events: Vec<EventEnvelope>,
    /// Stream id -> indexes into `events`, in version order.
    streams: HashMap<String, Vec<usize>>,
    /// Event id -> index into `events`, for idempotent appends.
    ids: HashMap<Uuid, usize>,
}

impl InMemoryEventStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        // A panic while holding the lock cannot leave the log half-written: every append
        // checks first and mutates only after, so the data stays usable.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Log {
    fn version_of(&self, stream: &str) -> u64 {
        self.streams
            .get(stream)
            .map_or(0, |indexes| indexes.len() as u64)
    }

    fn append(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let is_fresh = |event: &NewEvent| !self.ids.contains_key(&event.event_id);
        let fresh_count = events.iter().filter(|event| is_fresh(event)).count();
        let actual = self.version_of(stream);
        // A batch that is wholly a repeat succeeds whatever `expected` says: it is a retry of
        // an append that already happened.
        let is_pure_repeat = fresh_count == 0 && !events.is_empty();
        if !is_pure_repeat && !expected.accepts(actual) {
            return Err(StoreError::ConcurrencyConflict {
                stream: stream.to_owned(),
                expected,
                actual,
            });
        }
        let recorded_at = OffsetDateTime::now_utc();
        let mut next_version = actual + 1;
        let mut recorded = Vec::with_capacity(events.len());
        let stream_indexes = self.streams.entry(stream.to_owned()).or_default();
        for event in events {
            if let Some(&index) = self.ids.get(&event.event_id) {
                recorded.push(self.events[index].clone());
                continue;
            }
            let index = self.events.len();
            let envelope = EventEnvelope {
                event_id: event.event_id,
                stream_id: stream.to_owned(),
                aggregate_type: event.aggregate_type,
                version: next_version,
                position: index as u64 + 1,
                recorded_at,
                event_type: event.event_type,
                event_version: event.event_version,
                metadata: event.metadata,
                payload: event.payload,
            };
            next_version += 1;
            self.ids.insert(envelope.event_id, index);
            stream_indexes.push(index);
            recorded.push(envelope.clone());
            self.events.push(envelope);
        }
        Ok(recorded)
    }
}

#[async_trait]
impl EventStore for InMemoryEventStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let (recorded, head) = {
            let mut log = self.lock();
            let recorded = log.append(stream, expected, events)?;
            (recorded, log.events.len() as u64)
        };
        // Outside the lock: waking subscribers must not hold up other appenders.
        self.head.send_if_modified(|current| {
            let advanced = head > *current;
            if advanced {
                *current = head;
            }
            advanced
        });
        Ok(recorded)
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let log = self.lock();
        let Some(indexes) = log.streams.get(stream) else {
            return Ok(Vec::new());
        };
        let skip = from_version.saturating_sub(1);
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        Ok(indexes
            .iter()
            .skip(skip)
            .map(|&index| log.events[index].clone())
            .collect())
    }

    async fn read_all(
        &self,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let log = self.lock();
        let start = usize::try_from(after_position).unwrap_or(usize::MAX);
        Ok(log.events.iter().skip(start).take(limit).cloned().collect())
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        Ok(self.lock().version_of(stream))
    }

    fn position_watch(&self) -> Option<watch::Receiver<u64>> {
        Some(self.head.subscribe())
    }
}

#[async_trait]
impl SnapshotStore for InMemoryEventStore {
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        let mut snapshots = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let is_newer = snapshots
            .get(&snapshot.stream_id)
            .is_none_or(|held| held.version < snapshot.version);
        if is_newer {
            snapshots.insert(snapshot.stream_id.clone(), snapshot);
        }
        Ok(())
    }

    async fn load_snapshot(&self, stream: &str) -> Result<Option<Snapshot>, StoreError> {
        let snapshots = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(snapshots.get(stream).cloned())
    }
}
