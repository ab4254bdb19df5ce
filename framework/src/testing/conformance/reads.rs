//! The conformance checks of reading the global log: global order and paging, and a
//! subscription that catches up and then follows.

use std::collections::HashSet;
use std::sync::Arc;

use uuid::Uuid;

use super::{append_ok, numbers, panic_with, read_all, sample_event};
use crate::store::{EventStore, ExpectedVersion};
use crate::subscription::Subscription;

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

/// `find_event` returns the event stored under an id in its stream, as recorded, and nothing
/// for an id the stream does not hold (unknown, or of another stream).
pub async fn find_event_looks_up_an_id_in_its_stream<S: EventStore>(store: S) {
    for n in 0..3 {
        append_ok(&store, "find-a", ExpectedVersion::Any, n).await;
        append_ok(&store, "find-b", ExpectedVersion::Any, n).await;
    }
    let stream_a = read_all(&store, 0, 100)
        .await
        .into_iter()
        .filter(|event| event.stream_id == "find-a")
        .collect::<Vec<_>>();
    let second = &stream_a[1];
    let found = store
        .find_event("find-a", second.event_id)
        .await
        .unwrap_or_else(|error| panic_with(&format!("find_event failed: {error}")));
    assert_eq!(
        found.as_ref(),
        Some(second),
        "the event comes back as recorded"
    );
    let elsewhere = store
        .find_event("find-b", second.event_id)
        .await
        .unwrap_or_else(|error| panic_with(&format!("find_event failed: {error}")));
    assert_eq!(elsewhere, None, "an id of another stream is not found");
    let unknown = store
        .find_event("find-a", Uuid::now_v7())
        .await
        .unwrap_or_else(|error| panic_with(&format!("find_event failed: {error}")));
    assert_eq!(unknown, None, "an unknown id is not found");
}
