//! Snapshots in the repository: loaded state equals a full replay (property test), the load
//! reads only the tail, and an unusable snapshot is logged and ignored.

use std::io::Write;
use std::sync::{Arc, Mutex};

use aggregato::prelude::*;
use aggregato::store::{CorruptionReason, Snapshot};
use aggregato::{EventEnvelope, NewEvent};
use aggregato_tests::ledger::*;
use async_trait::async_trait;
use proptest::prelude::*;

mod support;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn in_memory_snapshot_plus_tail_equals_full_replay(steps in steps(), every in 1u64..7) {
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        let store = Arc::new(InMemoryEventStore::new());
        let id = LedgerId("prop".to_owned());
        let outcome = runtime.block_on(check_snapshot_equals_replay(store, &id, steps, every));
        prop_assert_eq!(outcome, Ok(()));
    }
}

/// A store that records the `from_version` of every stream read and can replace the stored
/// snapshot with a planted one or a corruption error.
#[derive(Default)]
struct Observed {
    inner: InMemoryEventStore,
    reads_from: Mutex<Vec<u64>>,
    planted: Mutex<Option<Result<Snapshot, ()>>>,
}

impl Observed {
    fn reads(&self) -> Vec<u64> {
        std::mem::take(&mut *self.reads_from.lock().expect("reads lock"))
    }

    fn plant(&self, snapshot: Result<Snapshot, ()>) {
        *self.planted.lock().expect("plant lock") = Some(snapshot);
    }
}

#[async_trait]
impl EventStore for Observed {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope<()>>, StoreError> {
        self.inner.append(stream, expected, events).await
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.reads_from
            .lock()
            .expect("reads lock")
            .push(from_version);
        self.inner.read_stream(stream, from_version).await
    }

    async fn read_all_filtered(
        &self,
        after: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.inner.read_all_filtered(after, limit, filter).await
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        self.inner.stream_version(stream).await
    }
}

#[async_trait]
impl SnapshotStore for Observed {
    async fn save_snapshot(&self, snapshot: Snapshot) -> Result<(), StoreError> {
        self.inner.save_snapshot(snapshot).await
    }

    async fn load_snapshot(&self, stream: &str) -> Result<Option<Snapshot>, StoreError> {
        let planted = self.planted.lock().expect("plant lock").clone();
        match planted {
            None => self.inner.load_snapshot(stream).await,
            Some(Ok(snapshot)) => Ok(Some(snapshot)),
            Some(Err(())) => Err(StoreError::Corrupt {
                position: None,
                stream: stream.to_owned(),
                version: 4,
                reason: CorruptionReason::Other("planted".to_owned()),
            }),
        }
    }
}

fn ledger() -> LedgerId {
    LedgerId("l1".to_owned())
}

/// A ledger with 1 open + 6 postings = version 7, snapshotting every 3 (taken at 3 and 6).
async fn seven_events(store: Arc<Observed>) -> Repository<Ledger, Arc<Observed>> {
    let repo = Repository::new(store).with_snapshots_every(3);
    repo.execute(&ledger(), OpenLedger).await.expect("open");
    for amount in 1..=6 {
        repo.execute(
            &ledger(),
            Post {
                amounts: vec![amount],
            },
        )
        .await
        .expect("post");
    }
    repo
}

#[tokio::test]
async fn load_reads_only_the_events_after_the_newest_snapshot() {
    let store = Arc::new(Observed::default());
    let repo = seven_events(store.clone()).await;
    let snapshot = store.load_snapshot("Ledger-l1").await.expect("snapshot");
    assert_eq!(snapshot.map(|s| s.version), Some(6));
    store.reads();
    let loaded = repo.load(&ledger()).await.expect("load");
    assert_eq!(loaded.version(), 7);
    assert_eq!(loaded.state().balance, 21);
    assert_eq!(loaded.state().applied, 7);
    // From the snapshot's own last event (6), to check it still exists, not from 1.
    assert_eq!(store.reads(), [6]);
}

#[tokio::test]
async fn a_batch_crossing_the_interval_snapshots_at_its_end() {
    let store = Arc::new(Observed::default());
    let repo = Repository::<Ledger, _>::new(store.clone()).with_snapshots_every(4);
    repo.execute(&ledger(), OpenLedger).await.expect("open");
    repo.execute(
        &ledger(),
        Post {
            amounts: vec![1, 2, 3, 4, 5],
        },
    )
    .await
    .expect("post");
    let snapshot = store.load_snapshot("Ledger-l1").await.expect("snapshot");
    let snapshot = snapshot.expect("a snapshot after crossing version 4");
    assert_eq!(snapshot.version, 6);
    let state: Ledger = serde_json::from_value(snapshot.payload).expect("state");
    assert_eq!(
        (state.applied, state.balance),
        (6, 15),
        "no event applied twice"
    );
}

/// Collects what `tracing` prints while the guard lives.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }
}

fn capture_warnings() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

async fn assert_ignored(planted: Result<Snapshot, ()>, warning: &str) {
    let store = Arc::new(Observed::default());
    let repo = seven_events(store.clone()).await;
    store.plant(planted);
    store.reads();
    let (log, _guard) = capture_warnings();
    let loaded = repo
        .load(&ledger())
        .await
        .expect("load falls back to a replay");
    assert_eq!(loaded.version(), 7);
    assert_eq!((loaded.state().applied, loaded.state().balance), (7, 21));
    assert_eq!(
        store.reads().last(),
        Some(&1),
        "rebuilt from the first event"
    );
    let log = log.text();
    assert!(log.contains("WARN"), "a warning is logged: {log}");
    assert!(log.contains(warning), "the warning says why: {log}");
    assert!(
        log.contains("Ledger-l1"),
        "the warning names the stream: {log}"
    );
}

fn planted(aggregate_type: &str, version: u64, payload: serde_json::Value) -> Snapshot {
    Snapshot {
        stream_id: "Ledger-l1".to_owned(),
        aggregate_type: aggregate_type.to_owned(),
        version,
        schema_version: <Ledger as Aggregate>::SNAPSHOT_VERSION,
        payload,
        taken_at: time::OffsetDateTime::UNIX_EPOCH,
    }
}

#[tokio::test]
async fn a_snapshot_that_no_longer_deserializes_is_ignored_with_a_warning() {
    let old_shape = serde_json::json!({ "open": "yes", "total": 3 });
    assert_ignored(
        Ok(planted("Ledger", 6, old_shape)),
        "no longer deserializes",
    )
    .await;
}

#[tokio::test]
async fn a_corrupt_stored_snapshot_is_ignored_with_a_warning() {
    assert_ignored(Err(()), "corrupt").await;
}

#[tokio::test]
async fn a_snapshot_of_another_aggregate_type_is_ignored() {
    let state = serde_json::to_value(Ledger::default()).expect("state");
    assert_ignored(Ok(planted("Account", 6, state)), "another aggregate type").await;
}

#[tokio::test]
async fn a_snapshot_ahead_of_its_stream_is_ignored() {
    let state = serde_json::to_value(Ledger {
        applied: 99,
        ..Ledger::default()
    })
    .expect("state");
    assert_ignored(Ok(planted("Ledger", 99, state)), "ahead of its stream").await;
}

#[tokio::test]
async fn snapshots_off_by_default_and_with_zero() {
    let by_default = |store: Arc<Observed>| Repository::<Ledger, _>::new(store);
    let with_zero =
        |store: Arc<Observed>| Repository::<Ledger, _>::new(store).with_snapshots_every(0);
    for make in [by_default, with_zero] {
        let store = Arc::new(Observed::default());
        let repo = make(store.clone());
        repo.execute(&ledger(), OpenLedger).await.expect("open");
        repo.execute(
            &ledger(),
            Post {
                amounts: vec![1; 10],
            },
        )
        .await
        .expect("post");
        let snapshot = store.load_snapshot("Ledger-l1").await.expect("snapshot");
        assert_eq!(snapshot, None);
    }
}

/// A state that deserializes as a `Ledger` but is not the one its events build.
fn wrong_state(applied: u64) -> serde_json::Value {
    serde_json::to_value(Ledger {
        open: true,
        balance: 999,
        applied,
        ..Ledger::default()
    })
    .expect("a ledger serializes")
}

#[tokio::test]
async fn a_snapshot_of_another_schema_version_is_ignored_with_a_warning() {
    let other_schema = Snapshot {
        schema_version: <Ledger as Aggregate>::SNAPSHOT_VERSION + 1,
        ..planted("Ledger", 6, wrong_state(6))
    };
    assert_ignored(
        Ok(other_schema),
        "taken with another version of the state's schema",
    )
    .await;
}

/// On a real store: a snapshot saved by code of another schema version (here, one that says
/// the balance is 999) round-trips with its version, is ignored by a repository whose
/// aggregate is of another version, and the repository's next snapshot replaces it.
async fn a_stored_snapshot_of_another_schema_version_is_not_used<S>(store: S)
where
    S: EventStore + SnapshotStore + Clone + 'static,
{
    let repo = Repository::<Ledger, _>::new(store.clone()).with_snapshots_every(3);
    repo.execute(&ledger(), OpenLedger).await.expect("open");
    for amount in 1..=6 {
        repo.execute(
            &ledger(),
            Post {
                amounts: vec![amount],
            },
        )
        .await
        .expect("post");
    }
    let other_schema = Snapshot {
        schema_version: 7,
        ..planted("Ledger", 7, wrong_state(7))
    };
    store
        .save_snapshot(other_schema.clone())
        .await
        .expect("save a snapshot of another schema version");
    let held = store.load_snapshot("Ledger-l1").await.expect("load");
    assert_eq!(
        held.as_ref().map(|s| (s.schema_version, s.version)),
        Some((7, 7)),
        "the store keeps the schema version (and the other schema replaced the snapshot at 6)"
    );
    let loaded = repo.load(&ledger()).await.expect("load");
    assert_eq!(
        (
            loaded.version(),
            loaded.state().balance,
            loaded.state().applied
        ),
        (7, 21, 7),
        "rebuilt from the events, not from the other schema's snapshot"
    );
    for amount in [1, 1] {
        repo.execute(
            &ledger(),
            Post {
                amounts: vec![amount],
            },
        )
        .await
        .expect("post");
    }
    let replaced = store.load_snapshot("Ledger-l1").await.expect("load");
    assert_eq!(
        replaced.map(|s| (s.schema_version, s.version)),
        Some((<Ledger as Aggregate>::SNAPSHOT_VERSION, 9)),
        "the repository's next snapshot replaces the one of another schema"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_of_another_schema_version_on_every_store() {
    on_every_store!(a_stored_snapshot_of_another_schema_version_is_not_used);
}
