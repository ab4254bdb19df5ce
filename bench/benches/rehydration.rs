//! Rehydration in memory: one account whose stream already holds 10,000 events (seeded
//! untimed), then 100 more commands, each one sample: the time of one command that must
//! rebuild the account first.
//!
//! aggregato with full replay and with snapshots every 100 events, cqrs-es 0.5 on its
//! `MemStore` (as shipped, printing) and on the non-printing copy. The seed is 9,999 events
//! appended in one batch plus one command through the framework (so the snapshot variant
//! takes its snapshot at version 10,000, as it would have had it run every command).

mod common;

use std::cell::Cell;

use aggregato::{EventStore as _, ExpectedVersion, InMemoryEventStore, Repository};
use common::workload::{Op, Workload};
use common::{cqrs, current_thread_runtime, ours};
use cqrs_es::mem_store::MemStore;
use divan::Bencher;
use tokio::runtime::Runtime;

/// Events in the stream before the timed commands.
const SEEDED: usize = 10_000;
/// Timed commands (one sample each).
const TIMED: u32 = 100;

fn main() {
    divan::main();
}

fn account() -> String {
    Workload::account_id(0)
}

/// The first `count` ops of the single-account workload (the open, then alternating
/// deposits and withdrawals).
fn ops(count: usize) -> Vec<Op> {
    Workload::new(1, count)
        .ops()
        .take(count)
        .map(|(_, op)| op)
        .collect()
}

/// Times one command per sample on `execute`, continuing the workload after the seed, then
/// checks the final balance with `balance`.
fn time_commands(
    bencher: Bencher,
    name: &str,
    runtime: &Runtime,
    execute: impl AsyncFn(Op),
    balance: impl AsyncFn() -> i64,
) {
    // Command index (0-based, after the open) of the next command.
    let next = Cell::new(SEEDED - 1);
    let single = Workload::new(1, usize::MAX);
    bencher.bench_local(|| {
        let (_, op) = single.command(next.get());
        runtime.block_on(execute(op));
        next.set(next.get() + 1);
    });
    let done = Workload::new(1, next.get());
    let actual = runtime.block_on(balance());
    done.verify(name, |_| actual);
}

fn bench_ours(bencher: Bencher, name: &str, snapshots_every: u64, state_cache: bool) {
    let runtime = current_thread_runtime();
    let id = account();
    let store = InMemoryEventStore::new();
    let seed = ops(SEEDED);
    let (bulk, last) = seed.split_at(SEEDED - 1);
    runtime
        .block_on(store.append(
            &format!("Account-{id}"),
            ExpectedVersion::NoStream,
            ours::encoded_events(bulk.iter().copied(), &id),
        ))
        .expect("seed");
    let mut repository: Repository<ours::Account, _> = if snapshots_every == 0 {
        ours::full_replay_repository(store)
    } else {
        ours::full_replay_repository(store).with_snapshots_every(snapshots_every)
    };
    if state_cache {
        // The last seeded command loads the account once and leaves it cached.
        repository = repository.with_state_cache(ours::STATE_CACHE_CAPACITY);
    }
    runtime
        .block_on(repository.execute(&id, ours::command(last[0], &id)))
        .expect("the last seeded command");
    time_commands(
        bencher,
        name,
        &runtime,
        async |op| {
            repository
                .execute(&id, ours::command(op, &id))
                .await
                .expect("aggregato: a command");
        },
        async || {
            let root = repository.load(&id).await.expect("load");
            assert_eq!(root.version(), (SEEDED + TIMED as usize) as u64);
            root.state().ledger.balance
        },
    );
}

/// aggregato, no snapshots: every command replays the whole stream.
#[divan::bench(sample_count = TIMED, sample_size = 1)]
fn ours_full_replay(bencher: Bencher) {
    bench_ours(bencher, "aggregato, full replay", 0, false);
}

/// aggregato with a snapshot every 100 events (in the same `InMemoryEventStore`).
#[divan::bench(sample_count = TIMED, sample_size = 1)]
fn ours_snapshots_every_100(bencher: Bencher) {
    bench_ours(bencher, "aggregato, snapshots", 100, false);
}

/// aggregato with its state cache and no snapshots: the stream is replayed once, by the last
/// seeded command; the timed commands start from the cached state.
#[divan::bench(sample_count = TIMED, sample_size = 1)]
fn ours_state_cache(bencher: Bencher) {
    bench_ours(bencher, "aggregato, state cache", 0, true);
}

fn bench_cqrs<S>(
    bencher: Bencher,
    name: &str,
    store: S,
    framework: cqrs_es::CqrsFramework<cqrs::CqrsAccount, S>,
) where
    S: cqrs_es::EventStore<cqrs::CqrsAccount>,
{
    let runtime = current_thread_runtime();
    let id = account();
    let seed = ops(SEEDED);
    let (bulk, last) = seed.split_at(SEEDED - 1);
    runtime.block_on(cqrs::seed(&store, &id, bulk.iter().copied()));
    runtime
        .block_on(framework.execute(&id, cqrs::command(last[0], &id)))
        .expect("the last seeded command");
    time_commands(
        bencher,
        name,
        &runtime,
        async |op| {
            framework
                .execute(&id, cqrs::command(op, &id))
                .await
                .expect("cqrs-es: a command");
        },
        async || {
            let mut context = store.load_aggregate(&id).await.expect("load");
            cqrs_es::AggregateContext::aggregate(&mut context)
                .ledger
                .balance
        },
    );
}

/// cqrs-es on `MemStore`, as shipped.
#[divan::bench(sample_count = TIMED, sample_size = 1)]
fn cqrs_es_mem_store(bencher: Bencher) {
    let store = MemStore::<cqrs::CqrsAccount>::default();
    let framework = cqrs::mem_store_framework(store.clone());
    bench_cqrs(bencher, "cqrs-es MemStore", store, framework);
}

/// cqrs-es on the non-printing copy of `MemStore`.
#[divan::bench(sample_count = TIMED, sample_size = 1)]
fn cqrs_es_quiet_mem_store(bencher: Bencher) {
    let store = cqrs::QuietMemStore::default();
    let framework = cqrs::quiet_framework(store.clone());
    bench_cqrs(bencher, "cqrs-es quiet MemStore", store, framework);
}
