//! Snapshot storage: the newest serialized state of an aggregate's stream.
//!
//! A snapshot is an optimisation, never a source of truth. The repository writes one every N
//! events (see [`crate::Repository::with_snapshots_every`]) and, when loading, starts from the
//! newest snapshot and applies only the events after it. A snapshot that cannot be read back is
//! ignored and the aggregate is rebuilt from its events.

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;

/// The serialized state of one stream's aggregate as of one version.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The stream the state was built from.
    pub stream_id: String,
    /// The aggregate type, as in [`crate::Aggregate::AGGREGATE_TYPE`].
    pub aggregate_type: String,
    /// The stream version the state includes: events `1..=version` are applied.
    pub version: u64,
    /// The version of the state's schema it was taken with
    /// ([`Aggregate::SNAPSHOT_VERSION`](crate::Aggregate::SNAPSHOT_VERSION)): a repository
    /// ignores a snapshot of another version.
    pub schema_version: u32,
    /// The serialized aggregate state.
    pub payload: serde_json::Value,
    /// When the snapshot was taken.
    pub taken_at: OffsetDateTime,
}

/// Where snapshots live. Every built-in event store is also a snapshot store.
///
/// A store keeps at least the newest snapshot of each stream. Saving a snapshot older than
/// the one held must not replace it: two writers may race, and the newer state wins. A
/// snapshot of another schema version replaces the one held whatever their stream versions:
/// the code that saves it cannot use the one held (after an upgrade, or a rollback).
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// Stores `snapshot` unless the store already holds one of the same stream, of the same
    /// schema version, at the same or a newer stream version.
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError>;

    /// The newest snapshot of `stream`, if any. A stored snapshot that cannot be read (for
    /// example invalid JSON) is [`StoreError::Corrupt`], which the repository treats as "no
    /// snapshot".
    async fn load_snapshot(&self, stream: &str) -> Result<Option<Snapshot>, StoreError>;
}

#[async_trait]
impl<S: SnapshotStore + ?Sized> SnapshotStore for Arc<S> {
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        (**self).save_snapshot(snapshot).await
    }

    async fn load_snapshot(&self, stream: &str) -> Result<Option<Snapshot>, StoreError> {
        (**self).load_snapshot(stream).await
    }
}
