//! Every benchmark workload at a tiny size, for both frameworks and the raw variants, checking
//! the final balances: `cargo test` proves the benchmark code correct without timing anything.
//! The PostgreSQL ones run only with `DATABASE_URL` set; without it they are ignored (and fail
//! when `CI` is set): see DEVELOPERS.md.

#[path = "../benches/common/mod.rs"]
mod common;

use std::sync::Arc;

use aggregato::{EventStore as _, InMemoryEventStore};
use common::workload::{Op, Workload};
use common::{cqrs, handwritten, ours, pg};
use cqrs_es::mem_store::MemStore;

const TINY: Workload = Workload::new(10, 200);

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
        !in_ci() || pg::database_url().is_some(),
        "CI is set but DATABASE_URL is not: the PostgreSQL tests would be skipped"
    );
}

#[test]
fn the_expected_balances_follow_the_round_robin() {
    // Account 0 gets commands 0, 10, 20 (deposit, withdraw, deposit); account 9 gets 9 and 19.
    let workload = Workload::new(10, 25);
    assert_eq!(workload.commands_on(0), 3);
    assert_eq!(workload.expected_balance(0), 140);
    assert_eq!(workload.commands_on(9), 2);
    assert_eq!(workload.expected_balance(9), 40);
    assert_eq!(workload.ops().count(), 35);
    let shares: usize = (0..3).map(|c| workload.ops_of_client(c, 3).count()).sum();
    assert_eq!(shares, 35);
}

#[test]
#[should_panic(expected = "ends with balance")]
fn a_wrong_balance_fails_verification() {
    TINY.verify("nobody", |_| 0);
}

#[tokio::test]
async fn in_memory_ours_both_repositories() {
    let ids = TINY.account_ids();
    let repository = ours::repository(InMemoryEventStore::new());
    ours::run(&repository, &ids, &TINY).await;
    ours::verify("aggregato", &repository, &ids, &TINY).await;

    let full_replay = ours::full_replay_repository(InMemoryEventStore::new());
    ours::run(&full_replay, &ids, &TINY).await;
    ours::verify("aggregato, full replay", &full_replay, &ids, &TINY).await;
    assert_eq!(
        full_replay
            .store()
            .read_all(0, usize::MAX)
            .await
            .unwrap()
            .len(),
        TINY.total_commands()
    );
}

#[tokio::test]
async fn in_memory_cqrs_es_both_stores() {
    let ids = TINY.account_ids();
    let store = MemStore::<cqrs::CqrsAccount>::default();
    let framework = cqrs::mem_store_framework(store.clone());
    cqrs::run(&framework, &ids, &TINY).await;
    cqrs::verify("cqrs-es MemStore", &store, &ids, &TINY).await;

    let quiet = cqrs::QuietMemStore::default();
    let framework = cqrs::quiet_framework(quiet.clone());
    cqrs::run(&framework, &ids, &TINY).await;
    cqrs::verify("cqrs-es quiet MemStore", &quiet, &ids, &TINY).await;
}

#[tokio::test]
async fn rehydration_workloads_seed_then_continue() {
    // One account, seeded directly, then commands through the framework.
    let single = Workload::new(1, 249);
    let seeded: Vec<Op> = single.ops().take(150).map(|(_, op)| op).collect();
    let id = Workload::account_id(0);
    let ids = vec![id.clone()];

    let store = InMemoryEventStore::new();
    store
        .append(
            &format!("Account-{id}"),
            aggregato::ExpectedVersion::NoStream,
            ours::encoded_events(seeded.iter().copied(), &id),
        )
        .await
        .unwrap();
    let repository = ours::full_replay_repository(store).with_snapshots_every(100);
    ours::run_ops(&repository, &ids, single.ops().skip(150)).await;
    ours::verify("aggregato, snapshots", &repository, &ids, &single).await;

    let store = cqrs::QuietMemStore::default();
    cqrs::seed(&store, &id, seeded.iter().copied()).await;
    cqrs::run_ops(
        &cqrs::quiet_framework(store.clone()),
        &ids,
        single.ops().skip(150),
    )
    .await;
    cqrs::verify("cqrs-es", &store, &ids, &single).await;
}

#[tokio::test]
async fn dispatch_derived_and_hand_written_agree() {
    let single = Workload::new(1, 999);
    let id = Workload::account_id(0);
    let commands = || single.ops().map(|(_, op)| ours::command(op, &id)).collect();
    for keep_events in [false, true] {
        let derived =
            handwritten::decide_and_evolve(ours::Account::default(), commands(), keep_events).await;
        let by_hand = handwritten::decide_and_evolve(
            handwritten::HandAccount::default(),
            commands(),
            keep_events,
        )
        .await;
        single.verify("derived", |_| derived.ledger.balance);
        single.verify("hand-written", |_| by_hand.ledger.balance);
    }
}

/// The PostgreSQL workloads: one client and several, all three contenders, plus the bulk
/// append and the rehydration readers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_workloads() {
    let Some(url) = pg::database_url() else {
        skipped("postgres_workloads");
        return;
    };
    let ids = TINY.account_ids();
    // Unique per run, so concurrent runs against one database never collide.
    let run = std::process::id();
    let schema = |name: &str| format!("aggregato_bench_test_{run}_{name}");

    for clients in [1, 4] {
        let ours_schema = schema(&format!("ours_{clients}"));
        let store = pg::ours_store(&url, &ours_schema).await;
        let repository = ours::repository(store);
        if clients == 1 {
            ours::run(&repository, &ids, &TINY).await;
        } else {
            ours::run_concurrently(&repository, &ids, &TINY, clients).await;
        }
        ours::verify("aggregato on PostgreSQL", &repository, &ids, &TINY).await;

        let pges_schema = schema(&format!("pges_{clients}"));
        let pool = pg::postgres_es_pool(&url, &pges_schema).await;
        let framework = Arc::new(pg::postgres_es_framework(pool.clone()));
        pg::postgres_es_run(&framework, &ids, &TINY, clients).await;
        pg::postgres_es_verify(pool.clone(), &ids, &TINY).await;
        pool.close().await;

        let raw_schema = schema(&format!("raw_{clients}"));
        let raw = pg::RawStore::connect(&url, &raw_schema).await;
        raw.run(&ids, &TINY, clients).await;
        raw.verify(&ids, &TINY).await;

        pg::explain_stream_reads(&url, &ours_schema, &pges_schema, &raw_schema, &ids[0]).await;
        for name in [ours_schema, pges_schema, raw_schema] {
            pg::drop_schema(&url, &name).await;
        }
    }

    // Rehydration and bulk appends: one account seeded in one go, then loaded.
    let single = Workload::new(1, 299);
    let seeded: Vec<Op> = single.ops().map(|(_, op)| op).collect();
    let id = Workload::account_id(0);
    let one = vec![id.clone()];

    let ours_schema = schema("ours_rehydrate");
    let store = pg::ours_store(&url, &ours_schema).await;
    let events = ours::encoded_events(seeded.iter().copied(), &id);
    pg::ours_seed(&store, &pg::stream_of(&id), events).await;
    ours::verify(
        "aggregato rehydration",
        &ours::full_replay_repository(store),
        &one,
        &single,
    )
    .await;

    let pges_schema = schema("pges_rehydrate");
    let pool = pg::postgres_es_pool(&url, &pges_schema).await;
    pg::postgres_es_seed(pool.clone(), &id, &seeded).await;
    pg::postgres_es_verify(pool.clone(), &one, &single).await;
    pool.close().await;

    let raw_schema = schema("raw_rehydrate");
    let raw = pg::RawStore::connect(&url, &raw_schema).await;
    let events = seeded.iter().map(|&op| pg::raw_event(op, &id)).collect();
    raw.append_many(&pg::stream_of(&id), 1, events).await;
    raw.verify(&one, &single).await;

    for name in [ours_schema, pges_schema, raw_schema] {
        pg::drop_schema(&url, &name).await;
    }
}
