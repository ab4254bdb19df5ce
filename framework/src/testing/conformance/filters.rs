//! The conformance checks of reads filtered by [`EventFilter`]: by aggregate type, by event
//! type, both, across pages, and through a subscription that catches up and then follows.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::{append_batch, panic_with, sample_event};
use crate::event::{EventEnvelope, NewEvent};
use crate::store::{CorruptionReason, EventFilter, EventStore, ExpectedVersion, StoreError};
use crate::subscription::Subscription;

/// An event of `aggregate_type` and `event_type` carrying `n`.
fn typed_event(aggregate_type: &str, event_type: &str, n: u64) -> NewEvent {
    NewEvent {
        aggregate_type: aggregate_type.to_owned(),
        event_type: event_type.to_owned(),
        ..sample_event(n)
    }
}

/// Appends, round after round, `Order` events (`Placed`, `Shipped`) and `Invoice` events
/// (`Placed`, `Paid`) to four streams, and returns them as recorded with the payloads
/// appended, in global order.
async fn append_mixed<S: EventStore + ?Sized>(store: &S, rounds: u64) -> Vec<EventEnvelope> {
    let mut recorded = Vec::new();
    for round in 0..rounds {
        for (stream, aggregate_type, event_type) in [
            ("order-1", "Order", "Placed"),
            ("invoice-1", "Invoice", "Placed"),
            ("order-2", "Order", "Shipped"),
            ("invoice-2", "Invoice", "Paid"),
        ] {
            let event = typed_event(aggregate_type, event_type, round);
            let payload = event.payload.to_value().unwrap_or_default();
            let appended = append_batch(store, stream, ExpectedVersion::Any, vec![event]).await;
            recorded.extend(
                appended
                    .into_iter()
                    .map(|e| e.with_payload(payload.clone())),
            );
        }
    }
    recorded
}

async fn read_filtered<S: EventStore + ?Sized>(
    store: &S,
    after: u64,
    limit: usize,
    filter: &EventFilter,
) -> Vec<EventEnvelope> {
    store
        .read_all_filtered(after, limit, filter)
        .await
        .unwrap_or_else(|error| {
            panic_with(&format!(
                "read_all_filtered({after}, {filter:?}) failed: {error}"
            ))
        })
}

fn ids<P>(events: &[EventEnvelope<P>]) -> Vec<Uuid> {
    events.iter().map(|event| event.event_id).collect()
}

/// The events of `all` that `filter` lets through, in order.
fn passing<P>(all: &[EventEnvelope<P>], filter: &EventFilter) -> Vec<Uuid> {
    all.iter()
        .filter(|event| filter.matches(&event.aggregate_type, &event.event_type))
        .map(|event| event.event_id)
        .collect()
}

/// A read of the global log filtered by aggregate type, by event type or by both returns
/// exactly the events that pass, whole and in global order; an empty list lets nothing
/// through, and the default filter everything.
pub async fn read_all_filters_by_aggregate_and_event_type<S: EventStore>(store: S) {
    let all = append_mixed(&store, 3).await;
    let orders = EventFilter::all().aggregate_types(["Order"]);
    let placed = EventFilter::all().event_types(["Placed"]);
    let placed_invoices = EventFilter::all()
        .aggregate_types(["Invoice"])
        .event_types(["Placed"]);
    let either = EventFilter::all()
        .aggregate_types(["Invoice", "Order"])
        .event_types(["Shipped", "Paid"]);
    for (name, filter, expected) in [
        ("by aggregate type", &orders, 6),
        ("by event type", &placed, 6),
        ("by both", &placed_invoices, 3),
        ("by lists of both", &either, 6),
    ] {
        let read = read_filtered(&store, 0, 1_000, filter).await;
        assert_eq!(read.len(), expected, "a read filtered {name} ({filter:?})");
        assert_eq!(
            ids(&read),
            passing(&all, filter),
            "a read filtered {name} returns the events that pass, in global order"
        );
        let whole: Vec<&EventEnvelope> = all
            .iter()
            .filter(|event| read.iter().any(|r| r.event_id == event.event_id))
            .collect();
        assert!(
            read.iter()
                .zip(whole)
                .all(|(read, recorded)| read == recorded),
            "a filtered read returns events whole, as recorded"
        );
    }
    let nothing = EventFilter::all().aggregate_types(Vec::<String>::new());
    assert!(
        read_filtered(&store, 0, 1_000, &nothing).await.is_empty(),
        "an empty list lets nothing through"
    );
    let unknown = EventFilter::all().aggregate_types(["Nobody"]);
    assert!(read_filtered(&store, 0, 1_000, &unknown).await.is_empty());
    let everything = read_filtered(&store, 0, 1_000, &EventFilter::all()).await;
    assert_eq!(
        ids(&everything),
        ids(&all),
        "the default filter lets all through"
    );
}

/// A filtered read pages by position like an unfiltered one: `limit` counts the events that
/// pass, each page starts after the last event of the one before, and paging sees every
/// passing event once, even when a page's events are far apart in the log.
pub async fn filtered_reads_page_by_position<S: EventStore>(store: S) {
    let mut all = append_mixed(&store, 5).await;
    // A long run of events that do not pass, between two pages' worth that do.
    let others: Vec<NewEvent> = (0..40).map(|n| typed_event("Invoice", "Paid", n)).collect();
    let payloads: Vec<_> = others
        .iter()
        .map(|event| event.payload.to_value().unwrap_or_default())
        .collect();
    let appended = append_batch(&store, "invoice-3", ExpectedVersion::Any, others).await;
    all.extend(
        appended
            .into_iter()
            .zip(payloads)
            .map(|(event, payload)| event.with_payload(payload)),
    );
    all.extend(append_mixed(&store, 2).await);
    let filter = EventFilter::all()
        .aggregate_types(["Order"])
        .event_types(["Shipped"]);
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = read_filtered(&store, after, 2, &filter).await;
        assert!(page.len() <= 2, "the limit counts the events that pass");
        let Some(last) = page.last() else { break };
        assert!(
            page.iter().all(|event| event.position > after),
            "a page starts after the position it is asked for"
        );
        after = last.position;
        paged.extend(page);
    }
    assert_eq!(paged.len(), 7, "one Shipped order per round");
    assert_eq!(
        ids(&paged),
        passing(&all, &filter),
        "paging a filtered read sees every passing event once, in order"
    );
}

/// A subscription with a filter delivers the passing events already stored, then follows
/// new ones appended by concurrent writers, none of the others, each once and in order; moved
/// past a position with `skip_past`, it goes on after it.
pub async fn filtered_subscription_catches_up_and_follows<S: EventStore + 'static>(store: S) {
    const WRITERS: u64 = 3;
    const ROUNDS: u64 = 10;
    let store = Arc::new(store);
    let history = append_mixed(store.as_ref(), 2).await;
    let filter = EventFilter::all().aggregate_types(["Order"]);
    let mut subscription = Subscription::new(Arc::clone(&store), 0)
        .with_filter(filter.clone())
        .with_batch_size(3)
        .with_poll_interval(Duration::from_millis(5));
    let caught_up = subscription
        .poll()
        .await
        .unwrap_or_else(|error| panic_with(&error.to_string()));
    assert_eq!(
        ids(&caught_up),
        passing(&history, &filter)[..3],
        "a filtered subscription catches up on the passing events, a page at a time"
    );
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for round in 0..ROUNDS {
                    for aggregate_type in ["Invoice", "Order"] {
                        let stream = format!("{aggregate_type}-live-{writer}");
                        let event = typed_event(aggregate_type, "Placed", round);
                        store
                            .append(&stream, ExpectedVersion::Any, vec![event])
                            .await
                            .map_err(|error| error.to_string())?;
                    }
                    tokio::task::yield_now().await;
                }
                Ok::<_, String>(())
            })
        })
        .collect();
    let total = 4 + WRITERS * ROUNDS;
    let mut seen = caught_up;
    while (seen.len() as u64) < total {
        let next = tokio::time::timeout(Duration::from_secs(20), subscription.next())
            .await
            .unwrap_or_else(|_| {
                panic_with(&format!(
                    "filtered subscription stalled after {} of {total} events",
                    seen.len()
                ))
            })
            .unwrap_or_else(|error| panic_with(&error.to_string()));
        seen.push(next);
    }
    for writer in writers {
        let result = writer.await.map_err(|e| e.to_string()).and_then(|r| r);
        result.unwrap_or_else(|error| panic_with(&error));
    }
    let everything = read_filtered(store.as_ref(), 0, 100_000, &EventFilter::all()).await;
    assert_eq!(
        ids(&seen),
        passing(&everything, &filter),
        "a filtered subscription delivers every passing event once, in order, and no other"
    );
    let last = seen.last().map_or(0, |event| event.position);
    assert_eq!(subscription.position(), last);

    let orders = passing(&everything, &filter);
    let mut resumed = Subscription::new(Arc::clone(&store), 0).with_filter(filter.clone());
    resumed.skip_past(seen[1].position);
    let next = resumed
        .next()
        .await
        .unwrap_or_else(|error| panic_with(&error.to_string()));
    assert_eq!(
        next.event_id, orders[2],
        "moved past a position, a filtered subscription goes on with the next passing event"
    );
}

/// Visiting a page of the global log ([`EventStore::visit_all`]) hands over exactly the events
/// that reading it returns, whole (the payload decodes to the same JSON, the metadata is the
/// same), for every filter and page; an error from the visitor stops the read and comes back.
pub async fn visiting_a_page_matches_reading_it<S: EventStore>(store: S) {
    append_mixed(&store, 3).await;
    let filters = [
        EventFilter::all(),
        EventFilter::all().aggregate_types(["Order"]),
        EventFilter::all().event_types(["Paid", "Shipped"]),
        EventFilter::all().aggregate_types(Vec::<String>::new()),
    ];
    for filter in &filters {
        for (after, limit) in [(0, 100), (3, 4)] {
            let read = read_filtered(&store, after, limit, filter).await;
            let mut visited = Vec::new();
            store
                .visit_all(after, limit, filter, &mut |event| {
                    let payload = event
                        .payload
                        .deserialize::<serde_json::Value>()
                        .map_err(|error| event.corrupt(CorruptionReason::Json(error)))?;
                    visited.push(event.to_envelope(payload));
                    Ok(())
                })
                .await
                .unwrap_or_else(|error| panic_with(&format!("visit_all failed: {error}")));
            assert_eq!(
                visited, read,
                "visiting a page ({after}, {limit}, {filter:?}) hands over what reading it returns"
            );
        }
    }
    let mut seen = 0;
    let stopped = store
        .visit_all(0, 100, &EventFilter::all(), &mut |event| {
            seen += 1;
            if seen == 2 {
                return Err(event.corrupt(CorruptionReason::Other("stop here".to_owned())));
            }
            Ok(())
        })
        .await;
    assert!(
        matches!(
            &stopped,
            Err(StoreError::Corrupt {
                position: Some(2),
                ..
            })
        ),
        "an error from the visitor stops the read and is returned: {stopped:?}"
    );
    assert_eq!(seen, 2, "no event is visited after the visitor's error");
}
