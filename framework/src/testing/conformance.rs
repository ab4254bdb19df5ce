//! The event-store conformance suite: one set of checks that every [`EventStore`] backend
//! must pass unchanged.
//!
//! Each check is a public async function taking a fresh, empty store. The
//! [`event_store_conformance!`](crate::event_store_conformance) macro stamps out one
//! `#[tokio::test]` per check for a backend:
//!
//! ```
//! // In a test file of the backend's crate:
//! aggregato::event_store_conformance!(async { aggregato::InMemoryEventStore::new() });
//! # fn main() {}
//! ```
//!
//! For a backend that needs a server, `event_store_conformance!(optional: make)` takes a
//! future of `Option<store>`; `None` (say, no `DATABASE_URL`) prints that the check was
//! skipped instead of running it, and fails it when the `CI` environment variable is set, where
//! a skipped check would pass for a checked one. Attributes written before `optional:` go on
//! every generated test, so a crate can report the checks as ignored, with the reason, when it
//! knows at build time that the backend is missing (`cfg_attr(no_database_url, ignore = "...")`,
//! with a `cfg` its build script sets):
//!
//! ```
//! # #![allow(unexpected_cfgs)]
//! # async fn connect_from_env() -> Option<aggregato::InMemoryEventStore> { None }
//! aggregato::event_store_conformance!(
//!     #[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
//!     optional: connect_from_env()
//! );
//! # fn main() {}
//! ```
//!
//! A check panics (it is a test assertion) with a message naming the rule the store broke.

mod filters;

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use crate::event::{EventEnvelope, Metadata, NewEvent};
use crate::store::{
    EventStore, ExpectedVersion, MAX_JSON_DEPTH, RefusalReason, Snapshot, SnapshotStore,
    StoreError, StoredPayload,
};
use crate::subscription::Subscription;

pub use filters::{
    filtered_reads_page_by_position, filtered_subscription_catches_up_and_follows,
    read_all_filters_by_aggregate_and_event_type,
};

/// A test event for `stream` carrying `n`, with a fresh id.
pub fn sample_event(n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        aggregate_type: "Conformance".to_owned(),
        event_type: "Sampled".to_owned(),
        event_version: 1,
        metadata: Metadata::new().with_actor("conformance"),
        payload: json!({ "n": n }),
    }
}

fn numbers(events: &[EventEnvelope]) -> Vec<u64> {
    events
        .iter()
        .map(|event| event.payload["n"].as_u64().unwrap_or(u64::MAX))
        .collect()
}

fn versions(events: &[EventEnvelope]) -> Vec<u64> {
    events.iter().map(|event| event.version).collect()
}

fn is_conflict(result: &Result<Vec<EventEnvelope>, StoreError>) -> bool {
    matches!(result, Err(StoreError::ConcurrencyConflict { .. }))
}

/// Appended events read back in order with versions 1, 2, ... and every field intact.
pub async fn appends_and_reads_back_in_order<S: EventStore>(store: S) {
    let first = sample_event(1);
    let recorded = append_batch(
        &store,
        "s-order",
        ExpectedVersion::NoStream,
        vec![first.clone(), sample_event(2)],
    )
    .await;
    assert_eq!(versions(&recorded), [1, 2], "versions start at 1");
    append_ok(&store, "s-order", ExpectedVersion::Exact(2), 3).await;
    let read = read_stream(&store, "s-order", 1).await;
    assert_eq!(
        numbers(&read),
        [1, 2, 3],
        "events read back in append order"
    );
    assert_eq!(versions(&read), [1, 2, 3]);
    let head = &read[0];
    assert_eq!(head.event_id, first.event_id, "event id kept");
    assert_eq!(head.stream_id, "s-order");
    assert_eq!(head.aggregate_type, first.aggregate_type);
    assert_eq!(head.event_type, first.event_type);
    assert_eq!(head.event_version, first.event_version);
    assert_eq!(head.metadata, first.metadata, "metadata kept");
    assert_eq!(head.payload, first.payload, "payload kept");
    assert_eq!(
        read_stream(&store, "s-order", 2).await.len(),
        2,
        "read from a version"
    );
    assert_eq!(
        read_stream(&store, "s-order", 4).await.len(),
        0,
        "read past the end"
    );
    assert!(
        read_stream(&store, "s-missing", 1).await.is_empty(),
        "a missing stream is empty"
    );
    assert_eq!(version_of(&store, "s-order").await, 3);
    assert_eq!(version_of(&store, "s-missing").await, 0);
}

/// `NoStream` accepts only an empty stream.
pub async fn expected_no_stream<S: EventStore>(store: S) {
    let ok = store
        .append("s-ns", ExpectedVersion::NoStream, vec![sample_event(1)])
        .await;
    assert!(ok.is_ok(), "NoStream on an empty stream appends: {ok:?}");
    let again = store
        .append("s-ns", ExpectedVersion::NoStream, vec![sample_event(2)])
        .await;
    assert!(
        is_conflict(&again),
        "NoStream on an existing stream conflicts: {again:?}"
    );
    assert_eq!(
        version_of(&store, "s-ns").await,
        1,
        "a conflict stores nothing"
    );
}

/// `StreamExists` accepts only a stream with at least one event.
pub async fn expected_stream_exists<S: EventStore>(store: S) {
    let missing = store
        .append("s-se", ExpectedVersion::StreamExists, vec![sample_event(1)])
        .await;
    assert!(
        is_conflict(&missing),
        "StreamExists on an empty stream conflicts: {missing:?}"
    );
    append_ok(&store, "s-se", ExpectedVersion::Any, 1).await;
    let ok = store
        .append("s-se", ExpectedVersion::StreamExists, vec![sample_event(2)])
        .await;
    assert!(
        ok.is_ok(),
        "StreamExists on an existing stream appends: {ok:?}"
    );
}

/// `Exact(n)` accepts only a stream whose last version is `n`, and reports the actual one.
pub async fn expected_exact<S: EventStore>(store: S) {
    let ok = store
        .append("s-ex", ExpectedVersion::Exact(0), vec![sample_event(1)])
        .await;
    assert!(ok.is_ok(), "Exact(0) on an empty stream appends: {ok:?}");
    append_ok(&store, "s-ex", ExpectedVersion::Exact(1), 2).await;
    for stale in [0, 1, 3] {
        let result = store
            .append("s-ex", ExpectedVersion::Exact(stale), vec![sample_event(9)])
            .await;
        match result {
            Err(StoreError::ConcurrencyConflict {
                stream,
                expected,
                actual,
            }) => {
                assert_eq!(stream, "s-ex");
                assert_eq!(expected, ExpectedVersion::Exact(stale));
                assert_eq!(actual, 2, "the conflict names the actual version");
            }
            other => panic_with(&format!(
                "Exact({stale}) at version 2 must conflict, got {other:?}"
            )),
        }
    }
    assert_eq!(version_of(&store, "s-ex").await, 2);
}

/// `Any` appends whatever the stream holds.
pub async fn expected_any<S: EventStore>(store: S) {
    append_ok(&store, "s-any", ExpectedVersion::Any, 1).await;
    append_ok(&store, "s-any", ExpectedVersion::Any, 2).await;
    assert_eq!(versions(&read_stream(&store, "s-any", 1).await), [1, 2]);
}

/// A batch is stored whole or not at all.
pub async fn batch_is_atomic<S: EventStore>(store: S) {
    append_ok(&store, "s-atomic", ExpectedVersion::NoStream, 1).await;
    let batch = (10..15).map(sample_event).collect();
    let result = store
        .append("s-atomic", ExpectedVersion::Exact(0), batch)
        .await;
    assert!(is_conflict(&result), "stale batch conflicts: {result:?}");
    assert_eq!(
        numbers(&read_stream(&store, "s-atomic", 1).await),
        [1],
        "no part of a failed batch is stored"
    );
    let all = read_all(&store, 0, 100).await;
    assert_eq!(
        all.len(),
        1,
        "nothing of a failed batch reaches the global log"
    );
    let batch = (2..7).map(sample_event).collect();
    let recorded = append_batch(&store, "s-atomic", ExpectedVersion::Exact(1), batch).await;
    assert_eq!(versions(&recorded), [2, 3, 4, 5, 6]);
    let positions: Vec<u64> = recorded.iter().map(|event| event.position).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "a batch keeps its order globally: {positions:?}"
    );
}

/// Appending an event id that is already stored stores no second copy and raises no error.
pub async fn duplicate_event_ids_are_idempotent<S: EventStore>(store: S) {
    let batch = vec![sample_event(1), sample_event(2)];
    let first = append_batch(&store, "s-idem", ExpectedVersion::NoStream, batch.clone()).await;
    // The same append again, even with an expected version that no longer holds.
    let again = append_batch(&store, "s-idem", ExpectedVersion::NoStream, batch.clone()).await;
    assert_eq!(
        again
            .iter()
            .map(|e| (e.event_id, e.version, e.position))
            .collect::<Vec<_>>(),
        first
            .iter()
            .map(|e| (e.event_id, e.version, e.position))
            .collect::<Vec<_>>(),
        "a retried append returns the events as first recorded"
    );
    // A batch mixing a stored id and a new one stores only the new one.
    let mixed = vec![batch[1].clone(), sample_event(3)];
    let recorded = append_batch(&store, "s-idem", ExpectedVersion::Exact(2), mixed).await;
    assert_eq!(
        versions(&recorded),
        [2, 3],
        "a mixed batch comes back in the order given"
    );
    assert_eq!(
        numbers(&read_stream(&store, "s-idem", 1).await),
        [1, 2, 3],
        "no second copy"
    );
    assert_eq!(
        read_all(&store, 0, 100).await.len(),
        3,
        "no second copy in the global log"
    );
}

/// An id repeated inside one batch is stored once, and both places come back as that one
/// event; an id first stored in another stream comes back as first recorded there, whatever
/// the repeat carries.
pub async fn repeated_ids_come_back_as_first_recorded<S: EventStore>(store: S) {
    let first = sample_event(1);
    let batch = vec![first.clone(), sample_event(2), first.clone()];
    let recorded = append_batch(&store, "s-twice", ExpectedVersion::NoStream, batch).await;
    assert_eq!(
        versions(&recorded),
        [1, 2, 1],
        "the repeat is the first copy"
    );
    assert_eq!(recorded[2], recorded[0], "both places carry the same event");
    assert_eq!(
        numbers(&read_stream(&store, "s-twice", 1).await),
        [1, 2],
        "stored once"
    );
    // The same id, different contents, another stream: the stored event wins.
    let mut imposter = first.clone();
    imposter.payload = json!({ "n": 99 });
    imposter.metadata = Metadata::new().with_actor("imposter");
    let again = append_batch(&store, "s-elsewhere", ExpectedVersion::Any, vec![imposter]).await;
    assert_eq!(again, vec![recorded[0].clone()], "as first recorded");
    assert_eq!(version_of(&store, "s-elsewhere").await, 0, "nothing stored");
}

/// Many tasks appending to one stream with `Exact` versions: each version is won exactly once
/// and every winning event is stored, none twice.
pub async fn concurrent_appenders_on_one_stream<S: EventStore + 'static>(store: S) {
    const TASKS: u64 = 16;
    const ATTEMPTS: u64 = 25;
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            for attempt in 0..ATTEMPTS {
                let n = task * 1_000 + attempt;
                let version = store
                    .stream_version("s-race")
                    .await
                    .map_err(|e| e.to_string())?;
                match store
                    .append(
                        "s-race",
                        ExpectedVersion::Exact(version),
                        vec![sample_event(n)],
                    )
                    .await
                {
                    Ok(recorded) => won.push((n, recorded[0].version)),
                    Err(StoreError::ConcurrencyConflict { .. }) => {}
                    Err(other) => return Err(other.to_string()),
                }
                tokio::task::yield_now().await;
            }
            Ok::<_, String>(won)
        }));
    }
    let mut won = Vec::new();
    for task in tasks {
        let result = task.await.map_err(|e| e.to_string()).and_then(|r| r);
        won.extend(result.unwrap_or_else(|e| panic_with(&e)));
    }
    let stored = read_stream(store.as_ref(), "s-race", 1).await;
    assert_eq!(
        stored.len(),
        won.len(),
        "every winning append is stored, nothing else"
    );
    assert_eq!(
        versions(&stored),
        (1..=won.len() as u64).collect::<Vec<_>>(),
        "no gap, no duplicate version"
    );
    let mut claimed: Vec<u64> = won.iter().map(|(_, version)| *version).collect();
    claimed.sort_unstable();
    assert_eq!(claimed, versions(&stored), "each version won exactly once");
    for (n, version) in &won {
        assert_eq!(
            numbers(&stored[*version as usize - 1..*version as usize]),
            [*n],
            "the winner's event sits at its version"
        );
    }
}

/// Reading all streams returns every event once, in strictly increasing global position,
/// paged by `after_position` and `limit`.
pub async fn read_all_in_global_order<S: EventStore>(store: S) {
    let mut expected = Vec::new();
    for round in 0..4u64 {
        for stream in ["s-a", "s-b", "s-c"] {
            let n = round * 10 + expected.len() as u64;
            append_ok(&store, stream, ExpectedVersion::Any, n).await;
            expected.push((stream.to_owned(), n));
        }
    }
    let all = read_all(&store, 0, 1_000).await;
    assert_eq!(
        all.iter()
            .map(|e| (e.stream_id.clone(), numbers(std::slice::from_ref(e))[0]))
            .collect::<Vec<_>>(),
        expected,
        "read_all returns events in the order they were appended"
    );
    assert!(
        all.windows(2)
            .all(|pair| pair[0].position < pair[1].position),
        "positions strictly increase"
    );
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = read_all(&store, after, 5).await;
        assert!(page.len() <= 5, "limit respected");
        let Some(last) = page.last() else { break };
        after = last.position;
        paged.extend(page);
    }
    assert_eq!(
        paged.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        all.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        "paging by position sees every event once"
    );
    let ids: HashSet<Uuid> = all.iter().map(|e| e.event_id).collect();
    assert_eq!(ids.len(), all.len());
}

/// A catch-up subscription delivers the existing events from its start position, then
/// follows events that concurrent writers append to several streams: every event exactly
/// once, in strictly increasing position, none skipped.
pub async fn subscription_catches_up_and_follows<S: EventStore + 'static>(store: S) {
    const WRITERS: u64 = 4;
    const PER_WRITER: u64 = 25;
    let store = Arc::new(store);
    for n in 0..5 {
        append_ok(store.as_ref(), "sub-history", ExpectedVersion::Any, n).await;
    }
    let mut late = Subscription::new(Arc::clone(&store), 3).with_batch_size(2);
    let caught_up = late
        .poll()
        .await
        .unwrap_or_else(|e| panic_with(&e.to_string()));
    assert_eq!(
        caught_up.iter().map(|e| e.position).collect::<Vec<_>>(),
        [4, 5],
        "a subscription starts after its position"
    );

    let mut subscription = Subscription::new(Arc::clone(&store), 0)
        .with_batch_size(7)
        .with_poll_interval(std::time::Duration::from_millis(5));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..PER_WRITER {
                    let stream = format!("sub-live-{writer}");
                    let event = sample_event(100 + writer * 1_000 + i);
                    store
                        .append(&stream, ExpectedVersion::Any, vec![event])
                        .await
                        .map_err(|e| e.to_string())?;
                    tokio::task::yield_now().await;
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    let total = 5 + WRITERS * PER_WRITER;
    let mut seen = Vec::new();
    while (seen.len() as u64) < total {
        let next = tokio::time::timeout(std::time::Duration::from_secs(20), subscription.next())
            .await
            .unwrap_or_else(|_| {
                panic_with(&format!(
                    "subscription stalled after {} of {total} events",
                    seen.len()
                ))
            })
            .unwrap_or_else(|e| panic_with(&e.to_string()));
        seen.push(next);
    }
    for writer in writers {
        let result = writer.await.map_err(|e| e.to_string()).and_then(|r| r);
        result.unwrap_or_else(|e| panic_with(&e));
    }
    let positions: Vec<u64> = seen.iter().map(|e| e.position).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "a subscription delivers in strictly increasing position: {positions:?}"
    );
    let everything = read_all(store.as_ref(), 0, 100_000).await;
    let ids: Vec<Uuid> = seen.iter().map(|e| e.event_id).collect();
    let all_ids: Vec<Uuid> = everything.iter().map(|e| e.event_id).collect();
    assert_eq!(
        ids, all_ids,
        "the subscription saw every event once, in order"
    );
    assert_eq!(subscription.position(), positions[positions.len() - 1]);
}

fn sample_snapshot(stream: &str, version: u64) -> Snapshot {
    Snapshot {
        stream_id: stream.to_owned(),
        aggregate_type: "Sample".to_owned(),
        version,
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

/// Snapshot stores: snapshots of different streams do not affect each other.
pub async fn snapshots_are_per_stream<S: SnapshotStore>(store: S) {
    save_snapshot(&store, sample_snapshot("snap-c", 5)).await;
    save_snapshot(&store, sample_snapshot("snap-d", 7)).await;
    let c = load_snapshot(&store, "snap-c").await.map(|s| s.version);
    let d = load_snapshot(&store, "snap-d").await.map(|s| s.version);
    assert_eq!((c, d), (Some(5), Some(7)));
}

/// A stream holds the events of one aggregate type: an event of another type, appended to it
/// or mixed into a batch, is refused whole with [`StoreError::Refused`], and nothing is stored.
pub async fn a_stream_keeps_one_aggregate_type<S: EventStore>(store: S) {
    append_ok(&store, "Counter-victim", ExpectedVersion::NoStream, 1).await;
    let mut intruder = sample_event(2);
    intruder.aggregate_type = "Intruder".to_owned();
    for expected in [ExpectedVersion::Any, ExpectedVersion::Exact(1)] {
        let refused = store
            .append("Counter-victim", expected, vec![intruder.clone()])
            .await;
        assert_refused_type(&refused, "Conformance", "Intruder");
    }
    let mixed = store
        .append(
            "Counter-mixed",
            ExpectedVersion::Any,
            vec![sample_event(3), intruder.clone()],
        )
        .await;
    assert_refused_type(&mixed, "Conformance", "Intruder");
    assert_eq!(
        numbers(&read_all(&store, 0, 100).await),
        [1],
        "refused events are not stored"
    );
    assert_eq!(version_of(&store, "Counter-mixed").await, 0);
}

fn assert_refused_type(
    result: &Result<Vec<EventEnvelope>, StoreError>,
    expected_type: &str,
    found_type: &str,
) {
    let refused = matches!(
        result,
        Err(StoreError::Refused {
            reason: RefusalReason::AggregateType { expected, found },
            ..
        }) if expected == expected_type && found == found_type
    );
    if !refused {
        panic_with(&format!(
            "an event of type {found_type} in a stream of {expected_type} must be refused, got {result:?}"
        ));
    }
}

/// JSON nested `depth` arrays and objects deep.
fn nested(depth: usize) -> serde_json::Value {
    (0..depth).fold(json!(1), |inner, level| {
        if level % 2 == 0 {
            json!([inner])
        } else {
            json!({ "a": inner })
        }
    })
}

/// What a store stores it can read back: a payload nested [`MAX_JSON_DEPTH`] levels reads back
/// through every read; one level more (in the payload or a metadata value) is refused at
/// append, so it can never stop a reader.
pub async fn what_cannot_be_read_back_is_refused<S: EventStore>(store: S) {
    let deepest = NewEvent {
        payload: nested(MAX_JSON_DEPTH),
        ..sample_event(1)
    };
    append_batch(
        &store,
        "deep",
        ExpectedVersion::NoStream,
        vec![deepest.clone()],
    )
    .await;
    assert_eq!(
        read_stream(&store, "deep", 1).await[0].payload,
        deepest.payload
    );
    assert_eq!(read_all(&store, 0, 10).await[0].payload, deepest.payload);
    let mut replayed = Vec::new();
    store
        .replay_stream("deep", 1, &mut |event| {
            let value = match event.payload {
                StoredPayload::Value(value) => value.clone(),
                StoredPayload::Json(text) => serde_json::from_str(text).unwrap_or_default(),
            };
            replayed.push(value);
            Ok(())
        })
        .await
        .unwrap_or_else(|error| panic_with(&format!("replay of the deepest payload: {error}")));
    assert_eq!(
        replayed,
        std::slice::from_ref(&deepest.payload),
        "the deepest payload replays"
    );

    let too_deep = NewEvent {
        payload: nested(MAX_JSON_DEPTH + 1),
        ..sample_event(2)
    };
    let deep_metadata = NewEvent {
        metadata: Metadata::new().with_extra("trace", nested(MAX_JSON_DEPTH - 1)),
        ..sample_event(3)
    };
    for (event, part) in [(too_deep, "payload"), (deep_metadata, "metadata")] {
        let refused = store
            .append("deep", ExpectedVersion::Any, vec![sample_event(4), event])
            .await;
        let is_refused = matches!(
            &refused,
            Err(StoreError::Refused { reason: RefusalReason::TooDeep { part: p, .. }, .. })
                if *p == part
        );
        if !is_refused {
            panic_with(&format!(
                "a {part} nested too deep must be refused, got {refused:?}"
            ));
        }
    }
    assert_eq!(
        version_of(&store, "deep").await,
        1,
        "refused batches store nothing"
    );
}

/// Every finite `f64` comes back bit for bit, through `read_stream`, `read_all` and
/// `replay_stream`: negative zero, the extremes, subnormals, and a few thousand random bit
/// patterns.
pub async fn floats_come_back_bit_for_bit<S: EventStore>(store: S) {
    let mut floats = vec![
        0.0,
        -0.0,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::EPSILON,
        5e-324,
        -5e-324,
        0.1,
        1.0 / 3.0,
        9_007_199_254_740_993.0,
        1e300,
        123_456_789.123_456_78,
    ];
    // xorshift64*: deterministic, so a failure names values that can be tried again.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    while floats.len() < 3_000 {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let value = f64::from_bits(state.wrapping_mul(0x2545_f491_4f6c_dd1d));
        if value.is_finite() {
            floats.push(value);
        }
    }
    let events: Vec<NewEvent> = floats
        .chunks(100)
        .map(|chunk| NewEvent {
            payload: json!({ "values": chunk }),
            ..sample_event(0)
        })
        .collect();
    append_batch(&store, "floats", ExpectedVersion::NoStream, events).await;
    let bits = |payloads: Vec<serde_json::Value>| -> Vec<u64> {
        payloads
            .iter()
            .flat_map(|payload| payload["values"].as_array().cloned().unwrap_or_default())
            .map(|value| value.as_f64().map_or(u64::MAX, f64::to_bits))
            .collect()
    };
    let expected: Vec<u64> = floats.iter().map(|value| value.to_bits()).collect();
    let from_stream = read_stream(&store, "floats", 1).await;
    let from_log = read_all(&store, 0, 1_000).await;
    let mut replayed = Vec::new();
    store
        .replay_stream("floats", 1, &mut |event| {
            // Decoded as a typed reader would: straight from the stored text when there is one.
            let values: Result<Vec<f64>, serde_json::Error> = match event.payload {
                StoredPayload::Value(value) => serde_json::from_value(value["values"].clone()),
                StoredPayload::Json(text) => serde_json::from_str::<serde_json::Value>(text)
                    .and_then(|value| serde_json::from_value(value["values"].clone())),
            };
            replayed.extend(values.unwrap_or_default().into_iter().map(f64::to_bits));
            Ok(())
        })
        .await
        .unwrap_or_else(|error| panic_with(&format!("replay of floats: {error}")));
    for (read, got) in [
        (
            "read_stream",
            bits(from_stream.into_iter().map(|e| e.payload).collect()),
        ),
        (
            "read_all",
            bits(from_log.into_iter().map(|e| e.payload).collect()),
        ),
        ("replay_stream", replayed),
    ] {
        let changed: Vec<(f64, f64)> = expected
            .iter()
            .zip(&got)
            .filter(|(want, have)| want != have)
            .map(|(want, have)| (f64::from_bits(*want), f64::from_bits(*have)))
            .take(5)
            .collect();
        if got.len() != expected.len() || !changed.is_empty() {
            panic_with(&format!(
                "{read} must return every float bit for bit; {} of {} read, first changes (stored, read): {changed:?}",
                got.len(),
                expected.len()
            ));
        }
    }
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

async fn append_ok<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    expected: ExpectedVersion,
    n: u64,
) {
    append_batch(store, stream, expected, vec![sample_event(n)]).await;
}

/// Appends `events`, failing the check with the store's error if the append fails.
async fn append_batch<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> Vec<EventEnvelope> {
    store
        .append(stream, expected, events)
        .await
        .unwrap_or_else(|error| {
            panic_with(&format!(
                "append to {stream} with {expected} must succeed: {error}"
            ))
        })
}

async fn read_stream<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    from: u64,
) -> Vec<EventEnvelope> {
    store
        .read_stream(stream, from)
        .await
        .unwrap_or_else(|error| panic_with(&format!("read_stream({stream}) failed: {error}")))
}

async fn read_all<S: EventStore + ?Sized>(
    store: &S,
    after: u64,
    limit: usize,
) -> Vec<EventEnvelope> {
    store
        .read_all(after, limit)
        .await
        .unwrap_or_else(|error| panic_with(&format!("read_all({after}) failed: {error}")))
}

async fn version_of<S: EventStore + ?Sized>(store: &S, stream: &str) -> u64 {
    store
        .stream_version(stream)
        .await
        .unwrap_or_else(|error| panic_with(&format!("stream_version({stream}) failed: {error}")))
}

/// Fails the running conformance check.
#[track_caller]
fn panic_with(message: &str) -> ! {
    std::panic::panic_any(format!("event store conformance: {message}"))
}

/// Stamps out one `#[tokio::test]` per conformance check for a backend.
///
/// `$make` is an expression evaluating to a future of a fresh, empty store; it runs once per
/// test, so each check gets its own store (for SQL backends: its own schema or file).
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.
///
/// `optional: $make` takes a future of `Option<store>`: `None` skips the check with a line on
/// stderr, or fails it when the `CI` environment variable is set (and is not `false` or `0`).
/// Attributes before `optional:` are put on every generated test (see the
/// [module docs](crate::testing::conformance) for reporting skipped checks as ignored).
#[macro_export]
macro_rules! event_store_conformance {
    ($(#[$attr:meta])* optional: $make:expr) => {
        $crate::event_store_conformance!(@all [$(#[$attr])*] optional $make);
    };
    ($make:expr) => {
        $crate::event_store_conformance!(@all [] required $make);
    };
    (@all $attrs:tt $mode:ident $make:expr) => {
        $crate::event_store_conformance!(@tests $attrs $mode $make;
            appends_and_reads_back_in_order,
            expected_no_stream,
            expected_stream_exists,
            expected_exact,
            expected_any,
            batch_is_atomic,
            duplicate_event_ids_are_idempotent,
            repeated_ids_come_back_as_first_recorded,
            concurrent_appenders_on_one_stream,
            read_all_in_global_order,
            read_all_filters_by_aggregate_and_event_type,
            filtered_reads_page_by_position,
            subscription_catches_up_and_follows,
            filtered_subscription_catches_up_and_follows,
            a_stream_keeps_one_aggregate_type,
            what_cannot_be_read_back_is_refused,
            floats_come_back_bit_for_bit,
        );
    };
    (@tests $attrs:tt $mode:ident $make:expr; $($check:ident),* $(,)?) => {
        $(
            $crate::event_store_conformance!(@test $attrs $mode $make, $check);
        )*
    };
    (@test [$(#[$attr:meta])*] $mode:ident $make:expr, $check:ident) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[$attr])*
        async fn $check() {
            $crate::event_store_conformance!(@run $mode $make, $check);
        }
    };
    (@run required $make:expr, $check:ident) => {
        let store = $make.await;
        $crate::testing::conformance::$check(store).await;
    };
    (@run optional $make:expr, $check:ident) => {
        match $make.await {
            ::core::option::Option::Some(store) => $crate::testing::conformance::$check(store).await,
            ::core::option::Option::None => {
                $crate::testing::conformance::skipped(::core::stringify!($check))
            }
        }
    };
}

/// Reports a check of an `optional:` conformance run whose backend is not configured: a line
/// on stderr, or a failure when the `CI` environment variable is set (and is not `false` or
/// `0`), since there a skipped check would pass for a checked one.
#[doc(hidden)]
#[track_caller]
pub fn skipped(check: &str) {
    let in_ci = std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0");
    if in_ci {
        panic_with(&format!(
            "{check}: the backend is not configured, and CI is set: a skipped check fails in CI"
        ));
    }
    eprintln!("skipped {check}: the backend is not configured");
}

/// Stamps out one `#[tokio::test]` per snapshot-store check, like
/// [`event_store_conformance!`](crate::event_store_conformance) (same `optional:` form, with
/// the same attributes).
#[macro_export]
macro_rules! snapshot_store_conformance {
    ($(#[$attr:meta])* optional: $make:expr) => {
        $crate::snapshot_store_conformance!(@all [$(#[$attr])*] optional $make);
    };
    ($make:expr) => {
        $crate::snapshot_store_conformance!(@all [] required $make);
    };
    (@all $attrs:tt $mode:ident $make:expr) => {
        $crate::event_store_conformance!(@tests $attrs $mode $make;
            snapshot_round_trip,
            newest_snapshot_wins,
            snapshots_are_per_stream,
            an_unreadable_snapshot_is_refused,
        );
    };
}
