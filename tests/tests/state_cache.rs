//! The repository's state cache: commands on cached aggregates skip the load, and a cache
//! that another writer has overtaken never changes an outcome.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aggregato::prelude::*;
use aggregato::{NewEvent, RepositoryResult, RetryPolicy};
use aggregato_tests::ledger::*;
use async_trait::async_trait;
use proptest::prelude::*;

/// The in-memory store, counting the reads a repository makes.
#[derive(Debug, Default)]
struct CountingStore {
    inner: InMemoryEventStore,
    stream_reads: AtomicUsize,
    version_reads: AtomicUsize,
}

impl CountingStore {
    fn reads(&self) -> usize {
        self.stream_reads.load(Ordering::SeqCst) + self.version_reads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl EventStore for CountingStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope<()>>, StoreError> {
        self.inner.append(stream, expected, events).await
    }

    async fn read_stream(&self, stream: &str, from: u64) -> Result<Vec<EventEnvelope>, StoreError> {
        self.stream_reads.fetch_add(1, Ordering::SeqCst);
        self.inner.read_stream(stream, from).await
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
        self.version_reads.fetch_add(1, Ordering::SeqCst);
        self.inner.stream_version(stream).await
    }
}

fn ledger(name: &str) -> LedgerId {
    LedgerId(name.to_owned())
}

fn post(amounts: &[i64]) -> Post {
    Post {
        amounts: amounts.to_vec(),
    }
}

#[tokio::test]
async fn commands_on_a_cached_aggregate_do_not_read_the_store() {
    let store = Arc::new(CountingStore::default());
    let repo = Repository::<Ledger, _>::new(store.clone()).with_state_cache(16);
    let id = ledger("hot");
    repo.execute(&id, OpenLedger).await.expect("open");
    let after_first = store.reads();
    assert!(after_first > 0, "the first command loads the ledger");
    for _ in 0..10 {
        repo.execute(&id, post(&[5])).await.expect("post");
    }
    assert_eq!(store.reads(), after_first, "cached commands read nothing");
    // A rejection on a current cached state is confirmed with one version read, no replay.
    let overdrawn = repo.execute(&id, post(&[-100])).await;
    assert!(matches!(
        overdrawn,
        Err(RepositoryError::Rejected(LedgerError::Overdrawn))
    ));
    assert_eq!(store.stream_reads.load(Ordering::SeqCst), 1);
    let loaded = repo.load(&id).await.expect("load");
    assert_eq!((loaded.version(), loaded.state().balance), (11, 50));
}

#[tokio::test]
async fn without_a_cache_every_command_reads_its_stream() {
    let store = Arc::new(CountingStore::default());
    let repo = Repository::<Ledger, _>::new(store.clone());
    let id = ledger("cold");
    repo.execute(&id, OpenLedger).await.expect("open");
    repo.execute(&id, post(&[5])).await.expect("post");
    repo.execute(&id, post(&[5])).await.expect("post");
    assert_eq!(store.stream_reads.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_stale_cache_is_not_a_conflict_even_without_retries() {
    let store = Arc::new(InMemoryEventStore::new());
    let cached = Repository::<Ledger, _>::new(store.clone())
        .with_state_cache(16)
        .with_retry_policy(RetryPolicy::never());
    let rival = Repository::<Ledger, _>::new(store.clone());
    let id = ledger("shared");
    cached.execute(&id, OpenLedger).await.expect("open");
    rival.execute(&id, post(&[10])).await.expect("rival posts");
    // The cache holds version 1; the stream is at 2. The append conflicts and is retried on a
    // fresh load without counting against `never()`.
    let events = cached.execute(&id, post(&[1])).await.expect("post");
    assert_eq!(events[0].version, 3);
    let loaded = rival.load(&id).await.expect("load");
    assert_eq!((loaded.version(), loaded.state().balance), (3, 11));
}

#[tokio::test]
async fn a_rejection_from_a_stale_cache_is_decided_again() {
    let store = Arc::new(InMemoryEventStore::new());
    let cached = Repository::<Ledger, _>::new(store.clone()).with_state_cache(16);
    let rival = Repository::<Ledger, _>::new(store.clone());
    let id = ledger("funded-elsewhere");
    cached.execute(&id, OpenLedger).await.expect("open");
    rival
        .execute(&id, post(&[100]))
        .await
        .expect("rival deposits");
    // On the cached state (balance 0) this would be overdrawn; on the stream it is not.
    let events = cached
        .execute(&id, post(&[-60]))
        .await
        .expect("not rejected by a stale cache");
    assert_eq!(events[0].version, 3);
    // And a rejection that holds on the current stream still comes back as one.
    let overdrawn = cached.execute(&id, post(&[-60])).await;
    assert!(matches!(
        overdrawn,
        Err(RepositoryError::Rejected(LedgerError::Overdrawn))
    ));
}

#[tokio::test]
async fn save_by_hand_drops_the_cached_state() {
    let store = Arc::new(CountingStore::default());
    let repo = Repository::<Ledger, _>::new(store.clone()).with_state_cache(16);
    let id = ledger("by-hand");
    repo.execute(&id, OpenLedger).await.expect("open");
    let mut root = repo.load(&id).await.expect("load");
    root.handle(post(&[7]).into(), &()).await.expect("decide");
    repo.save(&mut root, Metadata::default())
        .await
        .expect("save");
    let reads_before = store.stream_reads.load(Ordering::SeqCst);
    let events = repo.execute(&id, post(&[1])).await.expect("post");
    assert_eq!(events[0].version, 3);
    assert_eq!(
        store.stream_reads.load(Ordering::SeqCst),
        reads_before + 1,
        "the forgotten state is loaded again, not used stale"
    );
}

#[tokio::test]
async fn a_cache_of_one_serves_many_aggregates_correctly() {
    let store = Arc::new(InMemoryEventStore::new());
    let repo = Repository::<Ledger, _>::new(store.clone()).with_state_cache(1);
    let ids: Vec<LedgerId> = (0..5).map(|n| ledger(&format!("l{n}"))).collect();
    for id in &ids {
        repo.execute(id, OpenLedger).await.expect("open");
    }
    for round in 1..=4 {
        for id in &ids {
            repo.execute(id, post(&[round])).await.expect("post");
        }
    }
    let plain = Repository::<Ledger, _>::new(store);
    for id in &ids {
        let loaded = plain.load(id).await.expect("load");
        assert_eq!((loaded.version(), loaded.state().balance), (5, 10));
    }
}

/// What a command came to, comparable across repositories.
fn outcome(result: RepositoryResult<Vec<EventEnvelope<LedgerEvent>>, Ledger>) -> String {
    match result {
        Ok(events) => format!(
            "{:?}",
            events
                .iter()
                .map(|e| (e.version, &e.payload))
                .collect::<Vec<_>>()
        ),
        Err(RepositoryError::Rejected(error)) => format!("rejected: {error:?}"),
        Err(other) => format!("failed: {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any interleaving of a cached repository and a rival writer gives, command by command,
    /// the outcomes a single uncached repository gives, and the same final state.
    #[test]
    fn a_cached_repository_decides_like_an_uncached_one(
        steps in steps(),
        rivals in prop::collection::vec(any::<bool>(), 41),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        runtime.block_on(async {
            let id = ledger("prop");
            let reference = Repository::<Ledger, _>::new(Arc::new(InMemoryEventStore::new()));
            let store = Arc::new(InMemoryEventStore::new());
            let cached = Repository::<Ledger, _>::new(store.clone())
                .with_state_cache(4)
                .with_retry_policy(RetryPolicy::never());
            let rival = Repository::<Ledger, _>::new(store.clone());
            for (step, by_rival) in steps.into_iter().zip(rivals) {
                let expected = outcome(reference.execute(&id, step.clone()).await);
                let writer = if by_rival { &rival } else { &cached };
                let actual = outcome(writer.execute(&id, step).await);
                prop_assert_eq!(actual, expected);
            }
            let want = reference.load(&id).await.expect("load reference");
            let got = rival.load(&id).await.expect("load");
            prop_assert_eq!(got.version(), want.version());
            prop_assert_eq!(got.state(), want.state());
            Ok(())
        })?;
    }
}
