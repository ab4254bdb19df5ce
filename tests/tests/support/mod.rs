//! Shared by the SQL store tests: a store that owns the resource it lives in (a temp
//! directory, a PostgreSQL schema), the checks only SQL backends need, and small helpers.

#![allow(dead_code)] // Each test file uses the part it needs.

pub mod global_order;
pub mod stored_data;
pub mod stores;

use aggregato::NewEvent;
use aggregato::prelude::*;
use aggregato::store::{ReplayVisitor, Snapshot, SnapshotStore, StoredEventVisitor};
use aggregato::testing::conformance::sample_event;
use async_trait::async_trait;

/// A store together with the resource it lives in, released when the store is dropped. It
/// forwards every method, so the store's own fast paths (replay, visits) are the ones tested.
pub struct Guarded<S, G> {
    pub store: S,
    pub guard: G,
}

#[async_trait]
impl<S: EventStore, G: Send + Sync> EventStore for Guarded<S, G> {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope<()>>, StoreError> {
        self.store.append(stream, expected, events).await
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.store.read_stream(stream, from_version).await
    }

    async fn replay_stream(
        &self,
        stream: &str,
        from_version: u64,
        visit: &mut ReplayVisitor<'_>,
    ) -> Result<(), StoreError> {
        self.store.replay_stream(stream, from_version, visit).await
    }

    async fn read_all_filtered(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.store
            .read_all_filtered(after_position, limit, filter)
            .await
    }

    async fn visit_all(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
        visit: &mut StoredEventVisitor<'_>,
    ) -> Result<(), StoreError> {
        self.store
            .visit_all(after_position, limit, filter, visit)
            .await
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        self.store.stream_version(stream).await
    }

    async fn find_event(
        &self,
        stream: &str,
        event_id: uuid::Uuid,
    ) -> Result<Option<EventEnvelope>, StoreError> {
        self.store.find_event(stream, event_id).await
    }

    fn position_watch(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        self.store.position_watch()
    }

    async fn head_position(&self) -> Result<Option<u64>, StoreError> {
        self.store.head_position().await
    }
}

#[async_trait]
impl<S: SnapshotStore, G: Send + Sync> SnapshotStore for Guarded<S, G> {
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        self.store.save_snapshot(snapshot).await
    }

    async fn load_snapshot(&self, stream: &str) -> Result<Option<Snapshot>, StoreError> {
        self.store.load_snapshot(stream).await
    }
}

/// Appends `count` sample events to `stream` in one batch and returns them as recorded, with
/// the payloads appended.
pub async fn append_samples<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    count: u64,
) -> Vec<EventEnvelope> {
    let events: Vec<NewEvent> = (1..=count).map(sample_event).collect();
    let payloads: Vec<serde_json::Value> = events
        .iter()
        .map(|e| e.payload.to_value().expect("a payload is JSON"))
        .collect();
    store
        .append(stream, ExpectedVersion::Any, events)
        .await
        .expect("append samples")
        .into_iter()
        .zip(payloads)
        .map(|(recorded, payload)| recorded.with_payload(payload))
        .collect()
}

/// What a store returns from an append is exactly what it reads back later, every field
/// included (times survive the database's precision).
pub async fn recorded_events_read_back_equal<S: EventStore + ?Sized>(store: &S) {
    let mut recorded = append_samples(store, "round-trip", 2).await;
    let mut event = sample_event(3);
    event.metadata = Metadata::new()
        .with_actor("tester")
        .with_correlation_id(uuid::Uuid::now_v7())
        .with_extra(
            "nested",
            serde_json::json!({ "list": [1, "two", null], "ü": true }),
        );
    let payload = serde_json::json!({ "text": "multi\nline \"quoted\" é ✓", "big": u64::MAX });
    event.payload = (&payload).into();
    recorded.extend(
        store
            .append("round-trip", ExpectedVersion::Exact(2), vec![event])
            .await
            .expect("append")
            .into_iter()
            .map(|e| e.with_payload(payload.clone())),
    );
    let read = store
        .read_stream("round-trip", 1)
        .await
        .expect("read_stream");
    assert_eq!(read, recorded, "read_stream returns what append recorded");
    let all = store.read_all(0, 100).await.expect("read_all");
    assert_eq!(all, recorded, "read_all returns what append recorded");
}

/// The watch moves to the newest position after an append through this store.
pub async fn own_appends_move_the_position_watch<S: EventStore + ?Sized>(store: &S) {
    let mut watch = store
        .position_watch()
        .expect("SQL stores offer a position watch");
    let recorded = append_samples(store, "watched", 3).await;
    tokio::time::timeout(std::time::Duration::from_secs(10), watch.changed())
        .await
        .expect("the watch changes after an append")
        .expect("the store keeps the watch open");
    assert_eq!(*watch.borrow(), recorded[2].position);
}

/// Asserts `result` is `StoreError::Corrupt` naming `stream` and `version`, and returns its
/// reason.
pub fn expect_corrupt<T: std::fmt::Debug>(
    result: Result<T, StoreError>,
    stream: &str,
    version: u64,
) -> aggregato::store::CorruptionReason {
    match result {
        Err(StoreError::Corrupt {
            stream: actual_stream,
            version: actual_version,
            reason,
            ..
        }) => {
            assert_eq!(
                (actual_stream.as_str(), actual_version),
                (stream, version),
                "the error names the corrupt event ({reason})"
            );
            reason
        }
        other => panic!("expected a corrupt event at {stream} v{version}, got {other:?}"),
    }
}

/// With the event at `position` (version `version` of `stream`) corrupt: a read of the global
/// log hands out the events before it and stops there; the next read fails naming it, with its
/// position; a subscription delivers the events before it, reports it the same way, and once
/// moved past it with `skip_past` delivers the events after it.
pub async fn a_corrupt_event_ends_the_page<S: EventStore + Clone>(
    store: &S,
    stream: &str,
    version: u64,
    position: u64,
) -> aggregato::store::CorruptionReason {
    let before = store
        .read_all(0, 100)
        .await
        .expect("the events before it read");
    assert_eq!(
        before.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..position).collect::<Vec<_>>(),
        "the page ends before the corrupt event"
    );
    let at = store.read_all(position - 1, 100).await;
    assert!(
        matches!(&at, Err(StoreError::Corrupt { position: Some(p), .. }) if *p == position),
        "the error names the corrupt event's position: {at:?}"
    );
    let reason = expect_corrupt(at, stream, version);

    let head = store
        .read_all(position, 1_000)
        .await
        .expect("the events after it read");
    let mut subscription = aggregato::Subscription::new(store.clone(), 0);
    for expected in 1..position {
        let event = subscription
            .next()
            .await
            .expect("the events before it are delivered");
        assert_eq!(event.position, expected);
    }
    match subscription.next().await {
        Err(StoreError::Corrupt {
            position: Some(p), ..
        }) => assert_eq!(p, position),
        other => panic!("expected the subscription to report position {position}, got {other:?}"),
    }
    subscription.skip_past(position);
    for after in &head {
        let event = subscription
            .next()
            .await
            .expect("the events after it are delivered");
        assert_eq!(event.position, after.position);
    }
    reason
}

/// Appends the layout [`a_corrupt_event_ends_a_filtered_page`] expects: an `Other` event
/// (position 1), three samples to `stream` (positions 2 to 4), another `Other` event
/// (position 5). The caller then makes the sample at position 3 (version 2) unreadable.
pub async fn append_between_others<S: EventStore + ?Sized>(store: &S, stream: &str) {
    let other = || NewEvent {
        aggregate_type: "Other".to_owned(),
        ..sample_event(0)
    };
    store
        .append("other-1", ExpectedVersion::Any, vec![other()])
        .await
        .expect("append other");
    append_samples(store, stream, 3).await;
    store
        .append("other-1", ExpectedVersion::Any, vec![other()])
        .await
        .expect("append other");
}

/// With the layout of [`append_between_others`] and its event at position 3 corrupt: a read
/// filtered to its aggregate type ends the page before it, the next filtered read fails naming
/// its position, a filter that leaves it out never meets it, and a filtered subscription
/// reports it and, moved past it with `skip_past`, delivers the passing events after it.
pub async fn a_corrupt_event_ends_a_filtered_page<S: EventStore + Clone>(store: &S) {
    let samples = EventFilter::all().aggregate_types(["Conformance"]);
    let positions =
        |events: &[EventEnvelope]| events.iter().map(|e| e.position).collect::<Vec<_>>();
    let before = store
        .read_all_filtered(0, 100, &samples)
        .await
        .expect("the events before it read");
    assert_eq!(
        positions(&before),
        [2],
        "the filtered page ends before the corrupt event"
    );
    let at = store.read_all_filtered(2, 100, &samples).await;
    assert!(
        matches!(
            &at,
            Err(StoreError::Corrupt {
                position: Some(3),
                ..
            })
        ),
        "the filtered read fails naming the corrupt event's position: {at:?}"
    );
    let others = store
        .read_all_filtered(0, 100, &EventFilter::all().aggregate_types(["Other"]))
        .await
        .expect("a filter that leaves the corrupt event out never meets it");
    assert_eq!(positions(&others), [1, 5]);

    let mut subscription = aggregato::Subscription::new(store.clone(), 0).with_filter(samples);
    let first = subscription.next().await.expect("the event before it");
    assert_eq!(first.position, 2);
    match subscription.next().await {
        Err(StoreError::Corrupt {
            position: Some(p), ..
        }) => assert_eq!(p, 3),
        other => panic!("expected the filtered subscription to report position 3, got {other:?}"),
    }
    subscription.skip_past(3);
    let after = subscription.next().await.expect("the event after it");
    assert_eq!(
        after.position, 4,
        "past it, the next passing event is delivered"
    );
}

/// A typed repository loading a stream that holds an event type its aggregate does not know
/// fails with a decode corruption naming the stream and version.
pub async fn unknown_event_type_is_reported_by_the_repository<S, F, Fut>(store: S, rename: F)
where
    S: EventStore,
    F: FnOnce(String, u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use aggregato_examples::bank::*;
    let repository: Repository<BankAccount, _> =
        Repository::new_with_services(store, BankServices::default());
    let id = AccountId("acc-corrupt".to_owned());
    let open = OpenAccount {
        account_id: id.clone(),
        owner: "olga".to_owned(),
    };
    repository.execute(&id, open).await.expect("open");
    repository
        .execute(&id, DepositMoney { amount: 5 })
        .await
        .expect("deposit");
    let stream = <BankAccount as Aggregate>::stream_id(&id);
    rename(stream.clone(), 2).await;
    match repository.load(&id).await {
        Err(RepositoryError::Store(StoreError::Corrupt {
            stream: named,
            version,
            reason:
                aggregato::store::CorruptionReason::Decode(aggregato::DecodeError::UnknownEventType {
                    event_type,
                }),
            ..
        })) => {
            assert_eq!((named.as_str(), version), (stream.as_str(), 2));
            assert_eq!(event_type, "NoSuchEvent");
        }
        other => panic!("expected an unknown-event-type corruption, got {other:?}"),
    }
}

/// An id given twice in one new batch is stored once and returned in both places; a batch
/// larger than one multi-row statement holds is stored whole, in order.
pub async fn batch_edge_cases<S: EventStore + ?Sized>(store: &S) {
    let twice = sample_event(1);
    let recorded = store
        .append(
            "edges",
            ExpectedVersion::NoStream,
            vec![twice.clone(), sample_event(2), twice.clone()],
        )
        .await
        .expect("append a batch naming one id twice");
    let shape: Vec<_> = recorded.iter().map(|e| (e.event_id, e.version)).collect();
    assert_eq!(
        shape,
        [
            (twice.event_id, 1),
            (recorded[1].event_id, 2),
            (twice.event_id, 1)
        ]
    );
    assert_eq!(store.stream_version("edges").await.expect("version"), 2);

    const LARGE: u64 = 2_500;
    let events: Vec<NewEvent> = (0..LARGE).map(sample_event).collect();
    let ids: Vec<_> = events.iter().map(|e| e.event_id).collect();
    let recorded = store
        .append("edges", ExpectedVersion::Exact(2), events)
        .await
        .expect("append a large batch");
    assert_eq!(recorded.iter().map(|e| e.event_id).collect::<Vec<_>>(), ids);
    assert_eq!(
        recorded.iter().map(|e| e.version).collect::<Vec<_>>(),
        (3..3 + LARGE).collect::<Vec<_>>()
    );
    let read = store.read_stream("edges", 3).await.expect("read back");
    let read_as_recorded: Vec<_> = read.iter().map(|e| e.clone().with_payload(())).collect();
    assert_eq!(
        read_as_recorded, recorded,
        "the large batch reads back as recorded"
    );
    // Repeating the large batch is a pure repeat: nothing new, whatever is expected.
    let events_again: Vec<NewEvent> = read
        .iter()
        .map(|e| NewEvent {
            event_id: e.event_id,
            aggregate_type: e.aggregate_type.clone(),
            event_type: e.event_type.clone(),
            event_version: e.event_version,
            metadata: e.metadata.clone(),
            payload: (&e.payload).into(),
        })
        .collect();
    let again = store
        .append("edges", ExpectedVersion::NoStream, events_again)
        .await
        .expect("a repeated batch succeeds");
    assert_eq!(again, recorded);
    assert_eq!(
        store.stream_version("edges").await.expect("version"),
        2 + LARGE
    );
}
