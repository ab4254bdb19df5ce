//! The outbox on NATS JetStream, against the live server named by `NATS_URL` (e.g.
//! `nats://127.0.0.1:4222`; `.ci/run` starts one and sets it). Each test publishes under a
//! subject prefix and into a stream of its own, deleted after it. Without `NATS_URL` the tests
//! say they are skipped (and are counted as ignored when built without it); in CI they fail
//! instead. The outage test runs a throwaway `nats-server` of its own on another port.

mod nats_support;
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aggregato::outbox::nats::NatsBroker;
use aggregato::outbox::nats::async_nats::{self, jetstream};
use aggregato::outbox::{CloudEvent, Publisher};
use aggregato::prelude::*;
use aggregato::projection::{
    CheckpointStore as _, InMemoryCheckpoints, ProjectionError, ProjectionKey, RunOutcome, Status,
};
use aggregato_examples::bank::BankAccountEvent;
use nats_support::consumer::{Effects, PostgresEffects, SqliteEffects, consume};
use nats_support::server::{self, LocalServer};
use nats_support::{
    ACCOUNTS, Nats, bank_events, bank_history, checkpoint, event_ids, in_ci, publisher, skipped,
    stored_ids,
};

const WINDOW: Duration = Duration::from_secs(120);

/// Fails in CI without `NATS_URL`: the NATS tests would be skipped there.
#[test]
fn nats_tests_are_not_skipped_in_ci() {
    assert!(
        !in_ci() || std::env::var_os("NATS_URL").is_some_and(|url| !url.is_empty()),
        "CI is set but NATS_URL is not: the NATS tests would be skipped"
    );
}

/// Checks that `events` are the bank history in log order: ids, streams, versions, payloads.
fn assert_bank_history(events: &[EventEnvelope<BankAccountEvent>], ids: &[uuid::Uuid]) {
    let received: Vec<_> = events.iter().map(|event| event.event_id).collect();
    assert_eq!(received, ids, "every event once, in log order, with its id");
    let mut versions: HashMap<&str, u64> = HashMap::new();
    for event in events {
        let version = versions.entry(&event.stream_id).or_default();
        *version += 1;
        assert_eq!(
            event.version, *version,
            "{}: in stream order",
            event.stream_id
        );
        assert_eq!(event.aggregate_type, "BankAccount");
        match (&event.payload, event.version) {
            (BankAccountEvent::AccountOpened(opened), 1) => {
                assert_eq!(
                    event.stream_id,
                    format!("BankAccount-{}", opened.account_id)
                );
            }
            (BankAccountEvent::MoneyDeposited(deposit), version) => {
                assert_eq!(deposit.amount, version - 1);
            }
            (other, version) => panic!("unexpected event {other:?} at version {version}"),
        }
    }
    assert_eq!(versions.len(), ACCOUNTS);
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(no_nats_url, ignore = "needs NATS: NATS_URL is not set")]
async fn a_publisher_publishes_the_log_and_a_consumer_reads_it_back_in_order() {
    let Some(nats) = Nats::fresh("a_publisher_publishes_the_log").await else {
        return;
    };
    let store = Arc::new(InMemoryEventStore::new());
    bank_history(&store, 20).await;
    let ids = event_ids(&*store).await;
    assert_eq!(ids.len(), 1_000);
    let stream = nats.create_stream(WINDOW).await;

    let checkpoints = InMemoryCheckpoints::new();
    let mut runner = publisher(Arc::clone(&store), checkpoints.clone(), nats.broker());
    let progress = runner.catch_up().await.expect("publish");
    assert_eq!(progress.position, 1_000);
    assert_eq!(checkpoint(&checkpoints, runner.key()).await, 1_000);
    assert_eq!(runner.projection().broker().duplicates(), 0);

    // As stored: subject, message id and content type of each.
    assert_eq!(stored_ids(&stream).await, ids);
    let first = stream.get_raw_message(1).await.expect("the first message");
    assert_eq!(
        first.subject.as_str(),
        format!("{}.BankAccount.AccountOpened", nats.prefix)
    );
    let content_type = first.headers.get("Content-Type").expect("a content type");
    assert_eq!(content_type.as_str(), aggregato::outbox::nats::CONTENT_TYPE);
    let body = CloudEvent::from_slice(&first.payload).expect("a CloudEvent");
    assert_eq!(
        (body.id, body.source.as_str()),
        (ids[0], "urn:aggregato:tests")
    );

    // A consumer behind an inbox decodes every one into the bank's events.
    let effects = SqliteEffects::new().await;
    let consumed = consume(&stream, &effects, 1_000, 0).await;
    assert_eq!(consumed.duplicates, 0);
    assert_bank_history(&consumed.new, &ids);
    assert_eq!(effects.count().await, (1_000, 1_000));
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(no_nats_url, ignore = "needs NATS: NATS_URL is not set")]
async fn republishing_within_the_window_stores_no_duplicate() {
    let Some(nats) = Nats::fresh("republishing_within_the_window").await else {
        return;
    };
    let store = Arc::new(InMemoryEventStore::new());
    bank_history(&store, 20).await;
    let stream = nats.create_stream(WINDOW).await;
    let mut first = publisher(
        Arc::clone(&store),
        InMemoryCheckpoints::new(),
        nats.broker(),
    );
    first.catch_up().await.expect("publish");

    // As after a crash between the acks and the checkpoint: everything again, from 0.
    let mut second = publisher(
        Arc::clone(&store),
        InMemoryCheckpoints::new(),
        nats.broker(),
    );
    let progress = second.catch_up().await.expect("publish again");
    assert_eq!(progress.position, 1_000);
    assert_eq!(second.projection().broker().duplicates(), 1_000);
    assert_eq!(stored_ids(&stream).await, event_ids(&*store).await);
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(no_nats_url, ignore = "needs NATS: NATS_URL is not set")]
async fn the_inbox_has_one_effect_per_event_when_messages_come_twice() {
    let Some(nats) = Nats::fresh("the_inbox_has_one_effect_per_event").await else {
        return;
    };
    let store = Arc::new(InMemoryEventStore::new());
    bank_history(&store, 20).await;
    let ids = event_ids(&*store).await;
    // A window so short that a republish after it is stored a second time.
    let window = Duration::from_millis(500);
    let stream = nats.create_stream(window).await;
    let mut first = publisher(
        Arc::clone(&store),
        InMemoryCheckpoints::new(),
        nats.broker(),
    );
    first.catch_up().await.expect("publish");
    tokio::time::sleep(window * 4).await;
    let mut second = publisher(
        Arc::clone(&store),
        InMemoryCheckpoints::new(),
        nats.broker(),
    );
    second.catch_up().await.expect("publish again");
    assert_eq!(
        second.projection().broker().duplicates(),
        0,
        "past the window"
    );
    let stored = stored_ids(&stream).await;
    assert_eq!(stored.len(), 2_000);
    assert_eq!(stored[1_000..], ids[..]);

    // Each copy is delivered, and 100 of the first are delivered again (refused after their
    // commit, as if the consumer died before acking): one effect per event all the same.
    let sqlite = SqliteEffects::new().await;
    let consumed = consume(&stream, &sqlite, 2_100, 100).await;
    assert_eq!((consumed.new.len(), consumed.duplicates), (1_000, 1_100));
    assert_bank_history(&consumed.new, &ids);
    assert_eq!(sqlite.count().await, (1_000, 1_000));

    match PostgresEffects::new().await {
        Some(postgres) => {
            let consumed = consume(&stream, &postgres, 2_100, 100).await;
            assert_eq!((consumed.new.len(), consumed.duplicates), (1_000, 1_100));
            assert_eq!(postgres.count().await, (1_000, 1_000));
        }
        None => skipped(
            "the_inbox_has_one_effect_per_event on PostgreSQL",
            "DATABASE_URL is not set",
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(no_nats_url, ignore = "needs NATS: NATS_URL is not set")]
async fn a_subject_no_stream_takes_stops_the_publisher_where_it_was() {
    let Some(nats) = Nats::fresh("a_subject_no_stream_takes").await else {
        return;
    };
    let store = Arc::new(InMemoryEventStore::new());
    bank_history(&store, 2).await;
    // No stream under the prefix.
    let checkpoints = InMemoryCheckpoints::new();
    let mut runner = publisher(Arc::clone(&store), checkpoints.clone(), nats.broker());
    let error = runner.catch_up().await.expect_err("unroutable");
    let subject = format!("{}.BankAccount.AccountOpened", nats.prefix);
    match &error {
        ProjectionError::Failed {
            position,
            attempts,
            error,
            ..
        } => {
            assert_eq!((*position, *attempts), (1, 1), "stopped at once: {error}");
            assert!(error.contains("unroutable"), "{error}");
            assert!(error.contains(&format!("`{subject}`")), "{error}");
        }
        other => panic!("expected a failed publisher, got {other:?}"),
    }
    let state = checkpoints
        .state(runner.key())
        .await
        .expect("state")
        .expect("claimed");
    assert_eq!((state.position, state.status), (0, Status::Failed));
}

/// How long the broker is down while the publisher has events to publish.
const OUTAGE: Duration = Duration::from_secs(30);

/// Waits until the checkpoint reaches `position`.
async fn wait_for(checkpoints: &InMemoryCheckpoints, key: &ProjectionKey, position: u64) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while checkpoint(checkpoints, key).await < position {
        assert!(
            Instant::now() < deadline,
            "the publisher did not reach {position}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Holds for `outage`, checking that the checkpoint stays at `position`.
async fn assert_stays(checkpoints: &InMemoryCheckpoints, key: &ProjectionKey, position: u64) {
    let until = Instant::now() + OUTAGE;
    while Instant::now() < until {
        assert_eq!(
            checkpoint(checkpoints, key).await,
            position,
            "moved without acks"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_outage_never_moves_the_checkpoint_past_the_last_ack() {
    let Some(binary) = server::binary() else {
        skipped("a_broker_outage", "nats-server is not installed");
        return;
    };
    let mut server = LocalServer::new(binary);
    // The stream first (JetStream keeps it across restarts), then the server goes down.
    server.start().await;
    let setup = jetstream::new(async_nats::connect(server.url()).await.expect("connect"));
    let prefix = "outbox";
    let stream = NatsBroker::new(setup, prefix)
        .ensure_stream("OUTBOX", WINDOW)
        .await
        .expect("stream");
    drop(stream);
    server.stop().await;

    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(server.url())
        .await
        .expect("a client that waits for the server");
    let context = jetstream::context::ContextBuilder::new()
        .timeout(Duration::from_secs(1))
        .build(client);
    let store = Arc::new(InMemoryEventStore::new());
    bank_events(&store, 0, 10).await;
    let checkpoints = InMemoryCheckpoints::new();
    let mut runner = publisher(
        Arc::clone(&store),
        checkpoints.clone(),
        NatsBroker::new(context, prefix),
    )
    .with_retry(Publisher::<NatsBroker>::retry_policy());
    let key = runner.key().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        let outcome = runner
            .run(async {
                let _ = stopped.await;
            })
            .await;
        (runner, outcome)
    });

    // Nothing listens: nothing is acknowledged, nothing moves.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(checkpoint(&checkpoints, &key).await, 0);
    server.start().await;
    wait_for(&checkpoints, &key, 500).await;

    // Down again with 500 more events to publish: the checkpoint stays at the last ack.
    server.stop().await;
    bank_events(&store, 10, 20).await;
    assert_stays(&checkpoints, &key, 500).await;
    server.start().await;
    wait_for(&checkpoints, &key, 1_000).await;

    let _ = stop.send(());
    let (runner, outcome) = running.await.expect("the runner task");
    assert_eq!(outcome.expect("run"), RunOutcome::Shutdown);
    let check = jetstream::new(async_nats::connect(server.url()).await.expect("connect"));
    let stream = check.get_stream("OUTBOX").await.expect("the stream");
    assert_eq!(
        stored_ids(&stream).await,
        event_ids(&*store).await,
        "every event once, in log order"
    );
    drop(runner);
    server.stop().await;
}
