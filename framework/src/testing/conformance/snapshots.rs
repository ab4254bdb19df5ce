//! The conformance checks of snapshot stores: round trip, newest wins (unless the schema
//! version differs), per stream, and a snapshot that could not be read back refused.

use serde_json::json;

use super::{nested, panic_with};
use crate::store::{MAX_JSON_DEPTH, RefusalReason, Snapshot, SnapshotStore, StoreError};

fn sample_snapshot(stream: &str, version: u64) -> Snapshot {
    Snapshot {
        stream_id: stream.to_owned(),
        aggregate_type: "Sample".to_owned(),
        version,
        schema_version: 3,
        payload: json!({ "as_of": version, "text": "state é ✓" }),
        // Whole seconds, so stores with coarser timestamps still round-trip it exactly.
        taken_at: time::OffsetDateTime::from_unix_timestamp(1_700_000_000 + version as i64)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
    }
}

async fn save_snapshot<S: SnapshotStore + ?Sized>(store: &S, snapshot: Snapshot) {
    let stream = snapshot.stream_id.clone();
    store
        .save_snapshot(snapshot)
        .await
        .unwrap_or_else(|error| panic_with(&format!("save_snapshot({stream}) failed: {error}")));
}

async fn load_snapshot<S: SnapshotStore + ?Sized>(store: &S, stream: &str) -> Option<Snapshot> {
    store
        .load_snapshot(stream)
        .await
        .unwrap_or_else(|error| panic_with(&format!("load_snapshot({stream}) failed: {error}")))
}

/// Snapshot stores: a saved snapshot loads back equal; a stream without one loads `None`.
pub async fn snapshot_round_trip<S: SnapshotStore>(store: S) {
    assert_eq!(load_snapshot(&store, "snap-none").await, None);
    let snapshot = sample_snapshot("snap-a", 3);
    save_snapshot(&store, snapshot.clone()).await;
    let loaded = load_snapshot(&store, "snap-a").await;
    assert_eq!(loaded, Some(snapshot), "a snapshot must load back as saved");
}

/// Snapshot stores: a newer snapshot replaces an older one, never the other way round.
pub async fn newest_snapshot_wins<S: SnapshotStore>(store: S) {
    save_snapshot(&store, sample_snapshot("snap-b", 10)).await;
    save_snapshot(&store, sample_snapshot("snap-b", 20)).await;
    save_snapshot(&store, sample_snapshot("snap-b", 15)).await;
    let loaded = load_snapshot(&store, "snap-b").await.map(|s| s.version);
    assert_eq!(
        loaded,
        Some(20),
        "an older snapshot must not replace a newer one"
    );
}

/// Snapshot stores: a snapshot of another schema version replaces the one held, whether it is
/// newer or older (the code saving it, upgraded or rolled back, cannot use the held one); of
/// the same schema version, an older one still does not.
pub async fn another_schema_version_replaces_the_snapshot<S: SnapshotStore>(store: S) {
    save_snapshot(&store, sample_snapshot("snap-e", 20)).await;
    let upgraded = Snapshot {
        schema_version: 4,
        ..sample_snapshot("snap-e", 12)
    };
    save_snapshot(&store, upgraded.clone()).await;
    assert_eq!(
        load_snapshot(&store, "snap-e").await,
        Some(upgraded),
        "a snapshot of another schema version replaces the one held, even an older one"
    );
    let stale = Snapshot {
        schema_version: 4,
        ..sample_snapshot("snap-e", 8)
    };
    save_snapshot(&store, stale).await;
    let held = load_snapshot(&store, "snap-e").await;
    assert_eq!(
        held.map(|s| (s.schema_version, s.version)),
        Some((4, 12)),
        "of the same schema version, an older snapshot does not replace a newer one"
    );
}

/// Snapshot stores: snapshots of different streams do not affect each other.
pub async fn snapshots_are_per_stream<S: SnapshotStore>(store: S) {
    save_snapshot(&store, sample_snapshot("snap-c", 5)).await;
    save_snapshot(&store, sample_snapshot("snap-d", 7)).await;
    let c = load_snapshot(&store, "snap-c").await.map(|s| s.version);
    let d = load_snapshot(&store, "snap-d").await.map(|s| s.version);
    assert_eq!((c, d), (Some(5), Some(7)));
}

/// A snapshot nested deeper than [`MAX_JSON_DEPTH`] is refused (it could not be read back),
/// and the snapshot held before stays.
pub async fn an_unreadable_snapshot_is_refused<S: SnapshotStore>(store: S) {
    save_snapshot(&store, sample_snapshot("snap-deep", 3)).await;
    let deep = Snapshot {
        payload: nested(MAX_JSON_DEPTH + 1),
        ..sample_snapshot("snap-deep", 4)
    };
    let refused = store.save_snapshot(deep).await;
    if !matches!(
        refused,
        Err(StoreError::SnapshotRefused {
            version: 4,
            reason: RefusalReason::TooDeep { .. },
            ..
        })
    ) {
        panic_with(&format!(
            "a snapshot nested too deep must be refused, got {refused:?}"
        ));
    }
    let held = load_snapshot(&store, "snap-deep").await.map(|s| s.version);
    assert_eq!(held, Some(3), "the snapshot held before stays");
}
