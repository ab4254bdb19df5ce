//! PostgreSQL: aggregato's `PostgresEventStore`, postgres-es 0.5 and the raw limit with sqlx
//! 0.9 and no framework, on the server named by `DATABASE_URL` (skipped, exit 0, without it).
//!
//! - `commands_1_client` / `commands_8_clients`: open 100 accounts, then 20,000 commands
//!   round-robin (20,100 commands in all), one client or eight on disjoint accounts. Raw
//!   variant (a): per command one SELECT of the stream and one INSERT.
//! - `rehydrate_10000`: one stream of 10,000 events (seeded untimed), loaded: aggregato's
//!   `Repository::load` (full replay), postgres-es's `load_aggregate`, raw SELECT + serde
//!   decode into the typed events + fold.
//! - `append_10000`: 10,000 events appended to a new stream in one call: aggregato's
//!   `EventStore::append` vs raw variant (b), one multi-row INSERT (UNNEST of arrays).
//!
//! Every sample runs in a schema of its own, dropped and created fresh in the untimed setup;
//! no table is ANALYZEd. After the run, the stream reads' plans are printed (EXPLAIN).

mod common;

use std::sync::Arc;

use aggregato::{EventStore as _, ExpectedVersion, PostgresEventStore};
use common::workload::{Op, Workload};
use common::{VerifyOnDrop, multi_thread_runtime, ours, pg};
use divan::Bencher;
use divan::counter::ItemsCount;
use tokio::runtime::Runtime;

const WORKLOAD: Workload = Workload::new(100, 20_000);
const EVENTS: usize = 10_000;
const CLIENTS: usize = 8;

const OURS_1: &str = "aggregato_bench_cmd1_ours";
const PGES_1: &str = "aggregato_bench_cmd1_postgres_es";
const RAW_1: &str = "aggregato_bench_cmd1_raw";

fn main() {
    if pg::database_url().is_none() {
        println!(
            "postgres bench skipped: DATABASE_URL is not set \
             (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
        );
        return;
    }
    divan::main();
    let runtime = multi_thread_runtime();
    runtime.block_on(explain());
}

fn url() -> String {
    pg::database_url().expect("DATABASE_URL")
}

/// The plans of the three stream reads, on the tables the one-client runs left behind.
async fn explain() {
    let url = url();
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    for (schema, table) in [
        (OURS_1, "aggregato_events"),
        (PGES_1, "events"),
        (RAW_1, "raw_events"),
    ] {
        let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(format!("{schema}.{table}"))
            .fetch_one(&pool)
            .await
            .expect("to_regclass");
        if exists.is_none() {
            println!(
                "EXPLAIN skipped: {schema}.{table} does not exist (commands_1_client not run)"
            );
            return;
        }
    }
    pg::explain_stream_reads(&url, OURS_1, PGES_1, RAW_1, &Workload::account_id(0)).await;
}

fn command_counter() -> ItemsCount {
    ItemsCount::new(WORKLOAD.total_commands())
}

// ---- the command workload ----

fn ours_commands(bencher: Bencher, schema: &'static str, clients: usize) {
    bencher
        .counter(command_counter())
        .with_inputs(|| {
            let runtime = multi_thread_runtime();
            let store = runtime.block_on(pg::ours_store(&url(), schema));
            (runtime, ours::repository(store), WORKLOAD.account_ids())
        })
        .bench_local_values(|(runtime, repository, ids)| {
            if clients == 1 {
                runtime.block_on(ours::run(&repository, &ids, &WORKLOAD));
            } else {
                runtime.block_on(ours::run_concurrently(
                    &repository,
                    &ids,
                    &WORKLOAD,
                    clients,
                ));
            }
            VerifyOnDrop::new((runtime, repository, ids), |(runtime, repository, ids)| {
                runtime.block_on(ours::verify(
                    "aggregato on PostgreSQL",
                    &repository,
                    &ids,
                    &WORKLOAD,
                ));
            })
        });
}

fn postgres_es_commands(bencher: Bencher, schema: &'static str, clients: usize) {
    bencher
        .counter(command_counter())
        .with_inputs(|| {
            let runtime = multi_thread_runtime();
            let pool = runtime.block_on(pg::postgres_es_pool(&url(), schema));
            let framework = Arc::new(pg::postgres_es_framework(pool.clone()));
            (runtime, framework, pool, WORKLOAD.account_ids())
        })
        .bench_local_values(|(runtime, framework, pool, ids)| {
            runtime.block_on(pg::postgres_es_run(&framework, &ids, &WORKLOAD, clients));
            VerifyOnDrop::new((runtime, pool, ids), |(runtime, pool, ids)| {
                runtime.block_on(pg::postgres_es_verify(pool, &ids, &WORKLOAD));
            })
        });
}

fn raw_commands(bencher: Bencher, schema: &'static str, clients: usize) {
    bencher
        .counter(command_counter())
        .with_inputs(|| {
            let runtime = multi_thread_runtime();
            let raw = runtime.block_on(pg::RawStore::connect(&url(), schema));
            (runtime, raw, WORKLOAD.account_ids())
        })
        .bench_local_values(|(runtime, raw, ids)| {
            runtime.block_on(raw.run(&ids, &WORKLOAD, clients));
            VerifyOnDrop::new((runtime, raw, ids), |(runtime, raw, ids)| {
                runtime.block_on(raw.verify(&ids, &WORKLOAD));
            })
        });
}

#[divan::bench_group(sample_count = 3, sample_size = 1)]
mod commands_1_client {
    use super::*;

    #[divan::bench]
    fn ours(bencher: Bencher) {
        ours_commands(bencher, OURS_1, 1);
    }

    #[divan::bench]
    fn postgres_es(bencher: Bencher) {
        postgres_es_commands(bencher, PGES_1, 1);
    }

    /// Raw (a): per command, SELECT the stream, decode, fold, decide, one INSERT.
    #[divan::bench]
    fn raw(bencher: Bencher) {
        raw_commands(bencher, RAW_1, 1);
    }
}

#[divan::bench_group(sample_count = 3, sample_size = 1)]
mod commands_8_clients {
    use super::*;

    #[divan::bench]
    fn ours(bencher: Bencher) {
        ours_commands(bencher, "aggregato_bench_cmd8_ours", CLIENTS);
    }

    #[divan::bench]
    fn postgres_es(bencher: Bencher) {
        postgres_es_commands(bencher, "aggregato_bench_cmd8_postgres_es", CLIENTS);
    }

    /// Raw (a), eight clients.
    #[divan::bench]
    fn raw(bencher: Bencher) {
        raw_commands(bencher, "aggregato_bench_cmd8_raw", CLIENTS);
    }
}

// ---- rehydration ----

/// The 10,000 ops of the single account: the open, then alternating deposits and withdrawals.
fn seed_ops() -> Vec<Op> {
    Workload::new(1, EVENTS - 1)
        .ops()
        .map(|(_, op)| op)
        .collect()
}

fn verify_single(name: &str, balance: i64) {
    Workload::new(1, EVENTS - 1).verify(name, |_| balance);
}

#[divan::bench_group(sample_count = 20, sample_size = 1)]
mod rehydrate_10000 {
    use super::*;

    /// `Repository::load` with full replay (no snapshots, no cache).
    #[divan::bench]
    fn ours(bencher: Bencher) {
        let runtime = multi_thread_runtime();
        let id = Workload::account_id(0);
        let store = runtime.block_on(async {
            let store = pg::ours_store(&url(), "aggregato_bench_rehydrate_ours").await;
            let events = ours::encoded_events(seed_ops(), &id);
            pg::ours_seed(&store, &pg::stream_of(&id), events).await;
            store
        });
        let repository = ours::full_replay_repository(store);
        bencher.counter(ItemsCount::new(EVENTS)).bench_local(|| {
            let root = runtime.block_on(repository.load(&id)).expect("load");
            assert_eq!(root.version(), EVENTS as u64);
            VerifyOnDrop::new(root, |root| {
                verify_single("aggregato load", root.state().ledger.balance)
            })
        });
    }

    /// postgres-es `PersistedEventStore::load_aggregate` (events only).
    #[divan::bench]
    fn postgres_es(bencher: Bencher) {
        let runtime = multi_thread_runtime();
        let id = Workload::account_id(0);
        let store = runtime.block_on(async {
            let pool = pg::postgres_es_pool(&url(), "aggregato_bench_rehydrate_postgres_es").await;
            pg::postgres_es_seed(pool.clone(), &id, &seed_ops()).await;
            pg::postgres_es_store(pool)
        });
        bencher.counter(ItemsCount::new(EVENTS)).bench_local(|| {
            let mut context = runtime
                .block_on(cqrs_es::EventStore::load_aggregate(&store, &id))
                .expect("load");
            let balance = cqrs_es::AggregateContext::aggregate(&mut context)
                .ledger
                .balance;
            VerifyOnDrop::new(context, move |_| verify_single("postgres-es load", balance))
        });
    }

    /// Raw: one SELECT, serde decode of every payload into its typed event, fold.
    #[divan::bench]
    fn raw(bencher: Bencher) {
        let runtime = multi_thread_runtime();
        let id = Workload::account_id(0);
        let stream = pg::stream_of(&id);
        let raw = runtime.block_on(async {
            let raw = pg::RawStore::connect(&url(), "aggregato_bench_rehydrate_raw").await;
            let events = seed_ops()
                .into_iter()
                .map(|op| pg::raw_event(op, &id))
                .collect();
            raw.append_many(&stream, 1, events).await;
            raw
        });
        bencher.counter(ItemsCount::new(EVENTS)).bench_local(|| {
            let (ledger, version) = runtime.block_on(raw.load(&stream));
            assert_eq!(version, EVENTS as i64);
            VerifyOnDrop::new(ledger, |ledger| verify_single("raw load", ledger.balance))
        });
    }
}

// ---- bulk append ----

/// Appends the 10,000 events to stream `Account-bulk-{sample}` (a new stream per sample).
#[divan::bench_group(sample_count = 10, sample_size = 1)]
mod append_10000 {
    use super::*;

    fn next_stream(counter: &std::cell::Cell<usize>) -> (String, String) {
        counter.set(counter.get() + 1);
        let id = format!("bulk-{:04}", counter.get());
        (pg::stream_of(&id), id)
    }

    /// One `EventStore::append` of 10,000 events.
    #[divan::bench]
    fn ours(bencher: Bencher) {
        let runtime: Runtime = multi_thread_runtime();
        let store: PostgresEventStore =
            runtime.block_on(pg::ours_store(&url(), "aggregato_bench_append_ours"));
        let counter = std::cell::Cell::new(0);
        bencher
            .counter(ItemsCount::new(EVENTS))
            .with_inputs(|| {
                let (stream, id) = next_stream(&counter);
                let events = ours::encoded_events(seed_ops(), &id);
                (stream, events)
            })
            .bench_local_values(|(stream, events)| {
                let recorded = runtime
                    .block_on(store.append(&stream, ExpectedVersion::NoStream, events))
                    .expect("aggregato: append");
                assert_eq!(recorded.len(), EVENTS);
                recorded
            });
        let streams = counter.get();
        let total = runtime.block_on(async {
            let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM aggregato_events")
                .fetch_one(store.pool())
                .await
                .expect("count");
            stored
        });
        assert_eq!(total as usize, streams * EVENTS, "aggregato: events stored");
    }

    /// Raw (b): one INSERT ... SELECT FROM UNNEST of 10,000 rows.
    #[divan::bench]
    fn raw(bencher: Bencher) {
        let runtime: Runtime = multi_thread_runtime();
        let raw = runtime.block_on(pg::RawStore::connect(&url(), "aggregato_bench_append_raw"));
        let counter = std::cell::Cell::new(0);
        bencher
            .counter(ItemsCount::new(EVENTS))
            .with_inputs(|| {
                let (stream, id) = next_stream(&counter);
                let events: Vec<_> = seed_ops()
                    .into_iter()
                    .map(|op| pg::raw_event(op, &id))
                    .collect();
                (stream, events)
            })
            .bench_local_values(|(stream, events)| {
                runtime.block_on(raw.append_many(&stream, 1, events));
            });
        let streams = counter.get();
        let total = runtime.block_on(async {
            let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_events")
                .fetch_one(&raw.pool)
                .await
                .expect("count");
            stored
        });
        assert_eq!(total as usize, streams * EVENTS, "raw: events stored");
        // And the last stream decodes to the expected balance.
        let stream = pg::stream_of(&format!("bulk-{streams:04}"));
        let (ledger, _) = runtime.block_on(raw.load(&stream));
        verify_single("raw append", ledger.balance);
    }
}
