//! The global-order proof for SQL stores: concurrent appenders and a tailing reader that must
//! see every event exactly once, in order.
//!
//! Positions taken from a plain sequence become visible in commit order, not number order: a
//! reader that has seen position 7 and asks for "after 7" never sees a 6 that commits later.
//! This check makes that window wide (several appenders on separate connections committing
//! batches while a reader tails with small pages) and compares what the reader saw with the
//! final log.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aggregato::prelude::*;
use aggregato::testing::conformance::sample_event;

const APPENDERS: u64 = 6;
const APPENDS_EACH: u64 = 40;
const PAGE: usize = 5;

/// Runs the check against `store`, which must be empty.
pub async fn tailing_reader_sees_every_event_once_in_order<S: EventStore + 'static>(store: S) {
    let store = Arc::new(store);
    let appenders_done = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn(tail(Arc::clone(&store), Arc::clone(&appenders_done)));
    let mut appenders = Vec::new();
    for appender in 0..APPENDERS {
        let store = Arc::clone(&store);
        appenders.push(tokio::spawn(async move {
            for append in 0..APPENDS_EACH {
                // Batches of 1 to 3 events, each appender on streams of its own.
                let size = append % 3 + 1;
                let events = (0..size)
                    .map(|i| sample_event(appender * 10_000 + append * 10 + i))
                    .collect();
                let stream = format!("order-{appender}-{}", append % 4);
                store
                    .append(&stream, ExpectedVersion::Any, events)
                    .await
                    .expect("concurrent append");
            }
        }));
    }
    for appender in appenders {
        appender.await.expect("appender task");
    }
    appenders_done.store(true, Ordering::SeqCst);
    let seen = reader.await.expect("reader task");

    let mut full = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_all(after, 1_000).await.expect("read_all");
        let Some(last) = page.last() else { break };
        after = last.position;
        full.extend(page);
    }
    let expected_count = APPENDERS * (0..APPENDS_EACH).map(|append| append % 3 + 1).sum::<u64>();
    assert_eq!(
        full.len() as u64,
        expected_count,
        "every appended event is stored"
    );
    let distinct: HashSet<_> = seen.iter().map(|e| e.event_id).collect();
    assert_eq!(distinct.len(), seen.len(), "the reader saw no event twice");
    assert!(
        seen.windows(2)
            .all(|pair| pair[0].position < pair[1].position),
        "the reader saw strictly increasing positions"
    );
    let missed: Vec<u64> = full
        .iter()
        .filter(|e| !distinct.contains(&e.event_id))
        .map(|e| e.position)
        .collect();
    assert!(
        missed.is_empty(),
        "the tailing reader skipped positions {missed:?} (committed after a higher one it had read)"
    );
    assert_eq!(
        seen.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        full.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        "the reader saw the final log, in its order"
    );
}

/// Tails `read_all` with small pages until the appenders are done and nothing is left.
async fn tail<S: EventStore>(store: Arc<S>, appenders_done: Arc<AtomicBool>) -> Vec<EventEnvelope> {
    let mut seen: Vec<EventEnvelope> = Vec::new();
    let mut after = 0;
    loop {
        // Read the flag before the page: if the appenders were done before this read began,
        // an empty page means the log is complete.
        let was_done = appenders_done.load(Ordering::SeqCst);
        let page = store.read_all(after, PAGE).await.expect("tailing read_all");
        match page.last() {
            Some(last) => {
                after = last.position;
                seen.extend(page);
            }
            None if was_done => return seen,
            None => tokio::time::sleep(Duration::from_micros(200)).await,
        }
    }
}
