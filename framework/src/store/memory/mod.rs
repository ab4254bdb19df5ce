//! A non-durable event store in process memory, for tests, demos and benchmarks.
//!
//! It is a real store, not a mock: it enforces expected versions, stores batches atomically
//! and is safe under concurrent appenders, because one lock guards the whole log and every
//! check happens under it. It loses everything when the process ends.
//!
//! It keeps events compactly (a fixed record of 44 bytes plus the payload in a binary
//! encoding; see `log/`), about 85 bytes for an event with a small payload, and rebuilds
//! each [`EventEnvelope`] when it is read.

mod codec;
mod log;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use tokio::sync::watch;

use self::log::Log;
use super::{
    EventFilter, EventStore, ExpectedVersion, ReplayVisitor, Snapshot, SnapshotStore, StoreError,
    check_snapshot,
};
use crate::event::{EventEnvelope, NewEvent, RecordedEvent};

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

#[async_trait]
impl EventStore for InMemoryEventStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let (recorded, head) = {
            let mut log = self.lock();
            let recorded = log.append(stream, expected, events)?;
            (recorded, log.len())
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
        self.lock().read_stream(stream, from_version)
    }

    async fn replay_stream(
        &self,
        stream: &str,
        from_version: u64,
        visit: &mut ReplayVisitor<'_>,
    ) -> Result<(), StoreError> {
        // The visitor runs under the lock: it only decodes and applies, and a replay then
        // sees one consistent stream.
        self.lock().replay_stream(stream, from_version, visit)
    }

    async fn read_all_filtered(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.lock().read_all(after_position, limit, filter)
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        Ok(self.lock().version_of(stream))
    }

    fn position_watch(&self) -> Option<watch::Receiver<u64>> {
        Some(self.head.subscribe())
    }

    async fn head_position(&self) -> Result<Option<u64>, StoreError> {
        Ok(Some(*self.head.borrow()))
    }
}

#[async_trait]
impl SnapshotStore for InMemoryEventStore {
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        check_snapshot(&snapshot)?;
        let mut snapshots = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let is_newer = snapshots.get(&snapshot.stream_id).is_none_or(|held| {
            held.version < snapshot.version || held.schema_version != snapshot.schema_version
        });
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
