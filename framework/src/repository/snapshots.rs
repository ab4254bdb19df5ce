//! How a repository takes and uses snapshots, erased to function pointers so that
//! `Repository<A, S>` needs no serde or snapshot-store bounds unless snapshots are on.

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::aggregate::Aggregate;
use crate::store::{Snapshot, SnapshotStore, StoreError};

/// Snapshot every `every` events, through the given functions.
pub(super) struct Snapshots<A, S> {
    every: u64,
    store: fn(&S) -> &dyn SnapshotStore,
    encode: fn(&A) -> Result<serde_json::Value, serde_json::Error>,
    decode: fn(serde_json::Value) -> Result<A, serde_json::Error>,
}

// Manual impls: the fields are function pointers, copyable whatever `A` and `S` are.
impl<A, S> Clone for Snapshots<A, S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A, S> Copy for Snapshots<A, S> {}

impl<A, S> std::fmt::Debug for Snapshots<A, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshots")
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

/// A snapshot that was found and decoded: the state as of `version`.
pub(super) struct Restored<A> {
    pub(super) version: u64,
    pub(super) state: A,
}

impl<A, S> Snapshots<A, S>
where
    A: Aggregate + Serialize + DeserializeOwned,
    S: SnapshotStore,
{
    pub(super) fn every(every: u64) -> Self {
        Self {
            every,
            store: |store| store,
            encode: |state| crate::event::to_payload(state),
            decode: serde_json::from_value,
        }
    }
}

impl<A: Aggregate, S> Snapshots<A, S> {
    /// The newest usable snapshot of `stream`. One that is corrupt, of another aggregate type
    /// or schema version, or no longer deserializes is logged and ignored: the caller replays from the start.
    /// Only a backend failure is an error.
    pub(super) async fn restore(
        &self,
        store: &S,
        stream: &str,
    ) -> Result<Option<Restored<A>>, StoreError> {
        let snapshot = match (self.store)(store).load_snapshot(stream).await {
            Ok(Some(snapshot)) => snapshot,
            Ok(None) => return Ok(None),
            Err(StoreError::Corrupt {
                stream,
                version,
                reason,
                ..
            }) => {
                tracing::warn!(
                    %stream, version, %reason,
                    "stored snapshot is corrupt; rebuilding the aggregate from its events"
                );
                return Ok(None);
            }
            Err(other) => return Err(other),
        };
        if snapshot.aggregate_type != A::AGGREGATE_TYPE {
            tracing::warn!(
                %stream,
                version = snapshot.version,
                found = %snapshot.aggregate_type,
                expected = A::AGGREGATE_TYPE,
                "snapshot is of another aggregate type; rebuilding from events"
            );
            return Ok(None);
        }
        if snapshot.schema_version != A::SNAPSHOT_VERSION {
            // It may well deserialize, and mean something else: never use it.
            tracing::warn!(
                %stream,
                version = snapshot.version,
                found = snapshot.schema_version,
                expected = A::SNAPSHOT_VERSION,
                "snapshot was taken with another version of the state's schema; rebuilding \
                 from events"
            );
            return Ok(None);
        }
        match (self.decode)(snapshot.payload) {
            Ok(state) => Ok(Some(Restored {
                version: snapshot.version,
                state,
            })),
            Err(error) => {
                tracing::warn!(
                    %stream, version = snapshot.version, %error,
                    "snapshot no longer deserializes; rebuilding the aggregate from its events"
                );
                Ok(None)
            }
        }
    }

    /// Whether moving from `before` to `after` crosses a multiple of the snapshot interval.
    pub(super) fn is_due(&self, before: u64, after: u64) -> bool {
        self.every > 0 && after / self.every > before / self.every
    }

    /// Stores `state` as of `version`. A failure is logged, not returned: the events are
    /// committed already, and a missing snapshot only costs a longer replay.
    pub(super) async fn take(&self, store: &S, stream: &str, version: u64, state: &A) {
        let payload = match (self.encode)(state) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::warn!(
                    %stream, version, %error,
                    "aggregate state does not serialize; no snapshot taken"
                );
                return;
            }
        };
        let snapshot = Snapshot {
            stream_id: stream.to_owned(),
            aggregate_type: A::AGGREGATE_TYPE.to_owned(),
            version,
            schema_version: A::SNAPSHOT_VERSION,
            payload,
            taken_at: OffsetDateTime::now_utc(),
        };
        if let Err(error) = (self.store)(store).save_snapshot(snapshot).await {
            tracing::warn!(%stream, version, %error, "snapshot could not be stored");
        }
    }
}
