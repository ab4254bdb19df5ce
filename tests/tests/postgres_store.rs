//! `PostgresEventStore` against the shared conformance suites and the checks only SQL stores
//! need, on the live server named by `DATABASE_URL`. Each test gets a schema of its own
//! (`aggregato_test_<uuid>`), dropped when its store is dropped. Without `DATABASE_URL` every
//! test here is built as ignored tests (the build script sets `cfg(no_database_url)`), so
//! `cargo test` counts them as ignored, and `postgres_tests_are_not_skipped_in_ci` fails when
//! `CI` is set; with it, a server that cannot be reached fails.

mod support;

use aggregato::{EventStore as _, PostgresEventStore};
use support::Guarded;
use support::stores::PgSchema as Schema;

type TestStore = Guarded<PostgresEventStore, Schema>;

fn database_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Whether this is a CI run: `CI` is set, and is not empty, `false` or `0`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// Says that `test` was skipped for lack of `DATABASE_URL`; in CI, where a skipped test would
/// pass for a tested one, fails it instead.
fn skipped(test: &str) {
    assert!(
        !in_ci(),
        "{test}: DATABASE_URL is not set, and CI is: the PostgreSQL tests must run in CI"
    );
    eprintln!("skipped {test}: DATABASE_URL is not set");
}

/// Fails in CI without `DATABASE_URL`. Elsewhere the PostgreSQL tests of this file are counted
/// as ignored (built without `DATABASE_URL`) or say they were skipped (run without it).
#[test]
fn postgres_tests_are_not_skipped_in_ci() {
    assert!(
        !in_ci() || database_url().is_some(),
        "CI is set but DATABASE_URL is not: the PostgreSQL tests would be skipped"
    );
}

/// A store in a fresh schema, or `None` (the test is skipped) without `DATABASE_URL`.
async fn fresh_store() -> Option<TestStore> {
    let url = database_url()?;
    // 63 bytes, PostgreSQL's longest identifier, so every test also proves that nothing
    // derived from the schema name (the NOTIFY channel) outgrows that limit.
    let name = format!(
        "aggregato_test_{}_at_the_63_limit",
        uuid::Uuid::now_v7().simple()
    );
    assert_eq!(name.len(), 63);
    let store = PostgresEventStore::connect_in_schema(&url, &name)
        .await
        .unwrap_or_else(|error| panic!("DATABASE_URL is set but PostgreSQL is unusable: {error}"));
    Some(Guarded {
        store,
        guard: Schema { url, name },
    })
}

aggregato::event_store_conformance!(
    #[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
    optional: fresh_store()
);

mod snapshots {
    aggregato::snapshot_store_conformance!(
        #[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
        optional: super::fresh_store()
    );
}

/// Runs `check` on a fresh store, or reports that it was skipped.
macro_rules! with_store {
    ($name:literal, |$store:ident| $check:expr) => {
        match fresh_store().await {
            Some($store) => $check,
            None => skipped($name),
        }
    };
}

async fn execute(store: &TestStore, sql: &'static str) {
    sqlx::query(sql)
        .execute(store.store.pool())
        .await
        .expect("plant a row with raw SQL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn concurrent_appenders_and_a_tailing_reader_agree_on_the_global_order() {
    with_store!("global order", |store| {
        support::global_order::tailing_reader_sees_every_event_once_in_order(store).await
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn recorded_events_read_back_equal() {
    with_store!("round trip", |store| {
        support::recorded_events_read_back_equal(&store).await
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn appends_move_the_position_watch() {
    with_store!("own appends", |store| {
        support::own_appends_move_the_position_watch(&store).await
    });
}

/// Another process appending to the same schema (here: a second store with a pool of its
/// own) moves this store's watch, through LISTEN/NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn appends_by_another_process_move_the_position_watch_through_notify() {
    with_store!("notify", |store| {
        let url = database_url().expect("set");
        let other = PostgresEventStore::connect_in_schema(&url, &store.guard.name)
            .await
            .expect("second store");
        let mut watch = store.position_watch().expect("a position watch");
        // The listener starts in the background; until it listens, notifications are lost
        // (the watch is a hint), so keep appending until one arrives.
        let mut newest = 0;
        let mut woke = false;
        for _ in 0..50 {
            newest = support::append_samples(&other, "elsewhere", 1).await[0].position;
            let wait = std::time::Duration::from_millis(200);
            if tokio::time::timeout(wait, watch.wait_for(|seen| *seen >= newest))
                .await
                .is_ok()
            {
                woke = true;
                break;
            }
        }
        assert!(
            woke,
            "no NOTIFY reached the watch (newest position {newest})"
        );
        assert_eq!(*watch.borrow(), newest);
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn metadata_that_is_not_a_metadata_object_is_a_corrupt_event() {
    with_store!("bad metadata", |store| {
        support::append_samples(&store, "bad-metadata", 3).await;
        execute(
            &store,
            "UPDATE aggregato_events SET metadata = '[1, 2]' WHERE stream_id = 'bad-metadata' AND version = 2",
        )
        .await;
        let reason = support::expect_corrupt(
            store.read_stream("bad-metadata", 1).await,
            "bad-metadata",
            2,
        );
        assert!(
            matches!(reason, aggregato::store::CorruptionReason::Metadata(_)),
            "{reason:?}"
        );
        support::a_corrupt_event_ends_the_page(&store.store, "bad-metadata", 2, 2).await;
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn a_corrupt_event_ends_a_filtered_page_and_can_be_skipped() {
    with_store!("corrupt filtered", |store| {
        support::append_between_others(&store.store, "bad-filtered").await;
        execute(
            &store,
            "UPDATE aggregato_events SET metadata = '[1, 2]' WHERE position = 3",
        )
        .await;
        support::a_corrupt_event_ends_a_filtered_page(&store.store).await;
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn an_out_of_range_column_is_a_corrupt_event() {
    with_store!("bad column", |store| {
        support::append_samples(&store, "bad-column", 1).await;
        execute(&store, "UPDATE aggregato_events SET event_version = -1").await;
        let reason = support::expect_corrupt(store.read_all(0, 10).await, "bad-column", 1);
        assert!(
            matches!(reason, aggregato::store::CorruptionReason::Other(_)),
            "{reason:?}"
        );
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn an_unknown_event_type_is_a_decode_error_when_a_repository_loads() {
    with_store!("unknown event type", |store| {
        let pool = store.store.pool().clone();
        support::unknown_event_type_is_reported_by_the_repository(store, |stream, version| async move {
            sqlx::query("UPDATE aggregato_events SET event_type = 'NoSuchEvent' WHERE stream_id = $1 AND version = $2")
                .bind(stream)
                .bind(version as i64)
                .execute(&pool)
                .await
                .expect("rename the stored event type");
        })
        .await
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn the_database_itself_refuses_a_second_event_at_a_stream_version() {
    with_store!("constraint", |store| {
        support::append_samples(&store, "constrained", 1).await;
        let duplicate = sqlx::query(
            "INSERT INTO aggregato_events (position, event_id, stream_id, version, aggregate_type, \
             event_type, event_version, metadata, payload) \
             VALUES (99, gen_random_uuid(), 'constrained', 1, 'A', 'E', 1, '{}', '{}')",
        )
        .execute(store.store.pool())
        .await;
        match duplicate {
            Err(sqlx::Error::Database(error)) => assert!(error.is_unique_violation(), "{error}"),
            other => panic!("expected a unique violation, got {other:?}"),
        }
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn a_failed_expectation_stores_nothing_and_keeps_the_head() {
    with_store!("conflict", |store| {
        support::append_samples(&store, "c", 2).await;
        let conflict = store
            .append(
                "c",
                aggregato::ExpectedVersion::Exact(1),
                vec![aggregato::testing::conformance::sample_event(9)],
            )
            .await;
        assert!(
            matches!(
                conflict,
                Err(aggregato::StoreError::ConcurrencyConflict { actual: 2, .. })
            ),
            "{conflict:?}"
        );
        // A refused append takes no position: the next one continues right after the last.
        let next = support::append_samples(&store, "d", 1).await;
        assert_eq!(next[0].position, 3);
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn batch_edge_cases() {
    with_store!("batch edge cases", |store| support::batch_edge_cases(
        &store
    )
    .await);
}

#[test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
fn snapshot_plus_tail_equals_full_replay() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match runtime.block_on(fresh_store()) {
        Some(store) => {
            let store = std::sync::Arc::new(store);
            aggregato_tests::ledger::snapshot_property_holds(&runtime, store, 32);
        }
        None => skipped("snapshot_plus_tail_equals_full_replay"),
    }
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn typed_floats_come_back_bit_for_bit() {
    with_store!("typed floats", |store| {
        support::stored_data::floats_come_back_bit_for_bit(store.store.clone()).await
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn typed_non_finite_floats_are_refused() {
    with_store!("non-finite floats", |store| {
        support::stored_data::non_finite_floats_are_refused(store.store.clone()).await
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn typed_an_event_of_another_aggregate_type_is_never_applied() {
    with_store!("aggregate type", |store| {
        support::stored_data::an_event_of_another_aggregate_type_is_never_applied(
            store.store.clone(),
        )
        .await
    });
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn typed_a_save_retried_after_a_lost_reply_returns_the_stored_events() {
    with_store!("lost reply", |store| {
        support::stored_data::a_save_retried_after_a_lost_reply_returns_the_stored_events(
            store.store.clone(),
        )
        .await
    });
}

/// A row written around the store (raw SQL) that gives a stream's event another aggregate
/// type is caught when the stream is loaded.
#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn a_planted_event_of_another_aggregate_type_is_a_corrupt_event() {
    with_store!("planted type", |store| {
        support::stored_data::an_event_of_another_aggregate_type_is_never_applied(
            store.store.clone(),
        )
        .await;
        execute(
            &store,
            "UPDATE aggregato_events SET aggregate_type = 'Intruder' WHERE stream_id = 'Gauge-owned'",
        )
        .await;
        let repository: aggregato::Repository<support::stored_data::Gauge, _> =
            aggregato::Repository::new(store.store.clone());
        let loaded = repository.load(&"owned".to_owned()).await;
        assert!(
            matches!(
                loaded,
                Err(aggregato::RepositoryError::Store(
                    aggregato::StoreError::Corrupt {
                        reason: aggregato::store::CorruptionReason::AggregateType { .. },
                        ..
                    }
                ))
            ),
            "{loaded:?}"
        );
    });
}

/// Instances of one service starting together on a new schema: every open succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn concurrent_opens_of_a_new_schema_all_succeed() {
    let Some(url) = database_url() else {
        skipped("concurrent opens");
        return;
    };
    for _ in 0..3 {
        let name = format!("aggregato_test_{}", uuid::Uuid::now_v7().simple());
        let _guard = Schema {
            url: url.clone(),
            name: name.clone(),
        };
        let opens: Vec<_> = (0..8)
            .map(|_| {
                let (url, name) = (url.clone(), name.clone());
                tokio::spawn(
                    async move { PostgresEventStore::connect_in_schema(&url, &name).await },
                )
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

/// A store over a pool whose sessions default to REPEATABLE READ or SERIALIZABLE still appends
/// correctly under contention: every `Any` append succeeds, none is lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn appends_work_whatever_the_default_isolation_level() {
    for level in ["repeatable read", "serializable"] {
        with_store!("isolation", |store| {
            let schema = store.guard.name.clone();
            let options: sqlx::postgres::PgConnectOptions = store
                .guard
                .url
                .parse::<sqlx::postgres::PgConnectOptions>()
                .expect("DATABASE_URL parses")
                .options([
                    ("search_path", format!("\"{schema}\"")),
                    ("default_transaction_isolation", level.to_owned()),
                ]);
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .expect("a pool with another default isolation level");
            let isolation: String = sqlx::query_scalar("SHOW transaction_isolation")
                .fetch_one(&pool)
                .await
                .expect("show isolation");
            assert_eq!(isolation, level);
            let strict = std::sync::Arc::new(PostgresEventStore::from_pool(pool));
            let appenders: Vec<_> = (0..8u64)
                .map(|n| {
                    let strict = std::sync::Arc::clone(&strict);
                    tokio::spawn(async move {
                        for k in 0..10 {
                            strict
                                .append(
                                    "contended",
                                    aggregato::ExpectedVersion::Any,
                                    vec![aggregato::testing::conformance::sample_event(
                                        n * 100 + k,
                                    )],
                                )
                                .await?;
                        }
                        Ok::<_, aggregato::StoreError>(())
                    })
                })
                .collect();
            for appender in appenders {
                appender
                    .await
                    .expect("the appender ran")
                    .unwrap_or_else(|error| panic!("an Any append failed at {level}: {error}"));
            }
            let events = strict.read_stream("contended", 1).await.expect("read");
            assert_eq!(events.len(), 80, "every append stored once at {level}");
            assert_eq!(
                events.iter().map(|e| e.version).collect::<Vec<_>>(),
                (1..=80).collect::<Vec<_>>()
            );
        });
    }
}

/// Names PostgreSQL would misread in a `search_path`, or truncate, are refused before
/// anything is created.
#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn schema_names_postgres_would_misread_are_refused() {
    let Some(url) = database_url() else {
        skipped("schema names");
        return;
    };
    let too_long = "a".repeat(64);
    for name in ["$user", "pg_mine", "", too_long.as_str()] {
        match PostgresEventStore::connect_in_schema(&url, name).await {
            Err(aggregato::StoreError::InvalidConfig(message)) => {
                assert!(message.contains("choose another name"), "{message}")
            }
            other => panic!("schema name {name:?} must be refused, got {other:?}"),
        }
    }
}
