//! The conformance checks of appends: reads back what was appended, every `ExpectedVersion`,
//! atomic batches, idempotent ids, and concurrent appenders on one stream.

use std::sync::Arc;

use serde_json::json;

use super::{
    append_batch, append_ok, is_conflict, numbers, panic_with, read_all, read_stream, sample_event,
    version_of, versions,
};
use crate::event::Metadata;
use crate::store::{EventStore, ExpectedVersion, StoreError};

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
    assert_eq!(
        Some(&head.payload),
        first.payload.to_value().ok().as_ref(),
        "payload kept"
    );
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
    imposter.payload = json!({ "n": 99 }).into();
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
