//! `SqliteEventStore` against the shared conformance suites and the checks only SQL stores
//! need. Each test gets a database file of its own in a temporary directory.

mod support;

use aggregato::store::SnapshotStore;
use aggregato::{SqliteEventStore, StoreError};
use support::Guarded;
use tempfile::TempDir;

type TestStore = Guarded<SqliteEventStore, TempDir>;

/// A fresh, migrated store in a new temporary directory, removed when the store is dropped.
async fn fresh_store() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("events.db").display());
    let store = SqliteEventStore::connect(&url)
        .await
        .expect("open SQLite store");
    Guarded { store, guard: dir }
}

aggregato::event_store_conformance!(fresh_store());

mod snapshots {
    aggregato::snapshot_store_conformance!(super::fresh_store());
}

async fn execute(store: &TestStore, sql: &'static str) {
    sqlx::query(sql)
        .execute(store.store.pool())
        .await
        .expect("plant a row with raw SQL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appenders_and_a_tailing_reader_agree_on_the_global_order() {
    support::global_order::tailing_reader_sees_every_event_once_in_order(fresh_store().await).await;
}

#[tokio::test]
async fn recorded_events_read_back_equal() {
    support::recorded_events_read_back_equal(&fresh_store().await).await;
}

#[tokio::test]
async fn appends_move_the_position_watch() {
    support::own_appends_move_the_position_watch(&fresh_store().await).await;
}

#[tokio::test]
async fn a_payload_that_is_not_json_is_a_corrupt_event_named_by_stream_and_version() {
    let store = fresh_store().await;
    support::append_samples(&store, "bad-payload", 3).await;
    execute(
        &store,
        "UPDATE aggregato_events SET payload = '{\"n\": tru' WHERE stream_id = 'bad-payload' AND version = 2",
    )
    .await;
    let reason =
        support::expect_corrupt(store.read_stream("bad-payload", 1).await, "bad-payload", 2);
    assert!(
        matches!(reason, aggregato::store::CorruptionReason::Json(_)),
        "{reason:?}"
    );
    support::a_corrupt_event_ends_the_page(&store.store, "bad-payload", 2, 2).await;
    assert_eq!(
        store
            .read_stream("bad-payload", 3)
            .await
            .expect("the events after it still read")
            .len(),
        1
    );
}

#[tokio::test]
async fn a_corrupt_event_ends_a_filtered_page_and_can_be_skipped() {
    let store = fresh_store().await;
    support::append_between_others(&store.store, "bad-filtered").await;
    execute(
        &store,
        "UPDATE aggregato_events SET payload = '{\"n\": tru' WHERE position = 3",
    )
    .await;
    support::a_corrupt_event_ends_a_filtered_page(&store.store).await;
}

#[tokio::test]
async fn metadata_that_does_not_deserialize_is_a_corrupt_event() {
    let store = fresh_store().await;
    support::append_samples(&store, "bad-metadata", 2).await;
    for bad in [
        "UPDATE aggregato_events SET metadata = 'not json' WHERE version = 1",
        "UPDATE aggregato_events SET metadata = '{\"actor\": 42}' WHERE version = 2",
    ] {
        execute(&store, bad).await;
    }
    let reason = support::expect_corrupt(
        store.read_stream("bad-metadata", 1).await,
        "bad-metadata",
        1,
    );
    assert!(
        matches!(reason, aggregato::store::CorruptionReason::Metadata(_)),
        "{reason:?}"
    );
    let reason = support::expect_corrupt(
        store.read_stream("bad-metadata", 2).await,
        "bad-metadata",
        2,
    );
    assert!(
        matches!(reason, aggregato::store::CorruptionReason::Metadata(_)),
        "{reason:?}"
    );
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_a_corrupt_event() {
    let store = fresh_store().await;
    support::append_samples(&store, "bad-column", 1).await;
    execute(
        &store,
        "UPDATE aggregato_events SET event_id = 'not a uuid'",
    )
    .await;
    let reason = support::expect_corrupt(store.read_all(0, 10).await, "bad-column", 1);
    assert!(
        matches!(reason, aggregato::store::CorruptionReason::Other(_)),
        "{reason:?}"
    );
}

#[tokio::test]
async fn an_unknown_event_type_is_a_decode_error_when_a_repository_loads() {
    let store = fresh_store().await;
    let pool = store.store.pool().clone();
    support::unknown_event_type_is_reported_by_the_repository(store, |stream, version| async move {
        sqlx::query("UPDATE aggregato_events SET event_type = 'NoSuchEvent' WHERE stream_id = ? AND version = ?")
            .bind(stream)
            .bind(version as i64)
            .execute(&pool)
            .await
            .expect("rename the stored event type");
    })
    .await;
}

#[tokio::test]
async fn a_snapshot_that_is_not_json_is_corrupt() {
    let store = fresh_store().await;
    let snapshot = aggregato::store::Snapshot {
        stream_id: "snap".to_owned(),
        aggregate_type: "Sample".to_owned(),
        version: 4,
        schema_version: 1,
        payload: serde_json::json!({ "total": 4 }),
        taken_at: time::OffsetDateTime::now_utc(),
    };
    store.save_snapshot(snapshot).await.expect("save");
    execute(
        &store,
        "UPDATE aggregato_snapshots SET payload = '{\"total\": ' ",
    )
    .await;
    let reason = support::expect_corrupt(store.load_snapshot("snap").await, "snap", 4);
    assert!(
        matches!(reason, aggregato::store::CorruptionReason::Json(_)),
        "{reason:?}"
    );
}

#[tokio::test]
async fn the_database_itself_refuses_a_second_event_at_a_stream_version() {
    let store = fresh_store().await;
    support::append_samples(&store, "constrained", 1).await;
    let duplicate = sqlx::query(
        "INSERT INTO aggregato_events (position, event_id, stream_id, version, aggregate_type, \
         event_type, event_version, recorded_at, metadata, payload) \
         VALUES (99, x'00', 'constrained', 1, 'A', 'E', 1, '', '{}', '{}')",
    )
    .execute(store.store.pool())
    .await;
    match duplicate {
        Err(sqlx::Error::Database(error)) => assert!(error.is_unique_violation(), "{error}"),
        other => panic!("expected a unique violation, got {other:?}"),
    }
}

#[tokio::test]
async fn a_closed_pool_is_a_backend_error_not_a_panic() {
    let store = fresh_store().await;
    store.store.pool().close().await;
    assert!(matches!(
        store.read_all(0, 10).await,
        Err(StoreError::Backend(_))
    ));
}

#[tokio::test]
async fn events_survive_reopening_the_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("events.db").display());
    let recorded = {
        let store = SqliteEventStore::connect(&url).await.expect("open");
        let recorded = support::append_samples(&store, "durable", 2).await;
        store.pool().close().await;
        recorded
    };
    let reopened = SqliteEventStore::connect(&url).await.expect("reopen");
    assert_eq!(
        reopened.read_stream("durable", 1).await.expect("read"),
        recorded
    );
}

use aggregato::EventStore as _;

#[tokio::test]
async fn batch_edge_cases() {
    support::batch_edge_cases(&fresh_store().await).await;
}

/// The documented path for applications with their own pool: run the shipped migrations (or
/// copies of them), then build the store over the pool.
#[tokio::test]
async fn a_store_over_an_application_pool_with_the_shipped_migrations() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("app.db"))
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("pool");
    aggregato::store::sqlite::MIGRATOR
        .run(&pool)
        .await
        .expect("the shipped migrations apply");
    let store = SqliteEventStore::from_pool(pool);
    let recorded = support::append_samples(&store, "app", 2).await;
    assert_eq!(store.read_all(0, 10).await.expect("read_all"), recorded);
}

#[test]
fn snapshot_plus_tail_equals_full_replay() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let store = std::sync::Arc::new(runtime.block_on(fresh_store()));
    aggregato_tests::ledger::snapshot_property_holds(&runtime, store, 32);
}

#[tokio::test]
async fn a_repository_replaying_a_corrupt_payload_gets_a_typed_error_naming_it() {
    use aggregato::prelude::*;
    use aggregato_tests::ledger::{Ledger, LedgerId, OpenLedger, Post};

    let store = fresh_store().await;
    let repo = Repository::<Ledger, _>::new(store.store.clone());
    let id = LedgerId("replayed".to_owned());
    repo.execute(&id, OpenLedger).await.expect("open");
    repo.execute(
        &id,
        Post {
            amounts: vec![5, 6],
        },
    )
    .await
    .expect("post");
    execute(
        &store,
        "UPDATE aggregato_events SET payload = '{\"amount\": 5' WHERE stream_id = 'Ledger-replayed' AND version = 2",
    )
    .await;
    // Replay decodes the text straight into the event, so text that is not JSON fails there.
    let error = repo.load(&id).await.expect_err("corrupt");
    assert!(
        matches!(
            &error,
            RepositoryError::Store(StoreError::Corrupt {
                stream,
                version: 2,
                reason: aggregato::store::CorruptionReason::Decode(aggregato::DecodeError::Payload { event_type, .. }),
                ..
            }) if stream == "Ledger-replayed" && event_type == "Posted"
        ),
        "{error:?}"
    );
    execute(
        &store,
        "UPDATE aggregato_events SET payload = '{\"amount\": \"five\"}' WHERE stream_id = 'Ledger-replayed' AND version = 2",
    )
    .await;
    let error = repo.load(&id).await.expect_err("wrong shape");
    assert!(
        matches!(
            &error,
            RepositoryError::Store(StoreError::Corrupt {
                version: 2,
                reason: aggregato::store::CorruptionReason::Decode(
                    aggregato::DecodeError::Payload { .. }
                ),
                ..
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn typed_floats_come_back_bit_for_bit() {
    let store = fresh_store().await;
    support::stored_data::floats_come_back_bit_for_bit(store.store.clone()).await;
}

#[tokio::test]
async fn typed_non_finite_floats_are_refused() {
    let store = fresh_store().await;
    support::stored_data::non_finite_floats_are_refused(store.store.clone()).await;
}

#[tokio::test]
async fn typed_an_event_of_another_aggregate_type_is_never_applied() {
    let store = fresh_store().await;
    support::stored_data::an_event_of_another_aggregate_type_is_never_applied(store.store.clone())
        .await;
}

#[tokio::test]
async fn typed_a_save_retried_after_a_lost_reply_returns_the_stored_events() {
    let store = fresh_store().await;
    support::stored_data::a_save_retried_after_a_lost_reply_returns_the_stored_events(
        store.store.clone(),
    )
    .await;
}

/// Instances of one service starting together on a new file: every open succeeds (they take
/// turns migrating), and the store works afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_opens_of_a_new_file_all_succeed() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("events.db").display());
        let opens: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { SqliteEventStore::connect(&url).await })
            })
            .collect();
        let mut stores = Vec::new();
        for open in opens {
            stores.push(
                open.await
                    .expect("the open task ran")
                    .expect("every concurrent open succeeds"),
            );
        }
        support::append_samples(&stores[0], "after-open", 2).await;
        assert_eq!(
            stores[7]
                .stream_version("after-open")
                .await
                .expect("version"),
            2
        );
        for store in stores {
            store.pool().close().await;
        }
    }
}
