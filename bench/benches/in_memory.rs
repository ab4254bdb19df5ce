//! Workload 1 in memory: open 1,000 accounts, then 200,000 deposits and withdrawals
//! round-robin; throughput in commands per second (the opens count: 201,000 commands).
//!
//! aggregato on `InMemoryEventStore` through `Repository` (`common::ours::repository`, with
//! the state cache, and the plain full-replay repository), cqrs-es 0.5 through
//! `CqrsFramework` on its `MemStore` (which prints two lines per command to stdout) and on a
//! copy of `MemStore` without the prints. Every run's balances are verified after the timed
//! part.

mod common;

use aggregato::InMemoryEventStore;
use common::workload::Workload;
use common::{VerifyOnDrop, cqrs, current_thread_runtime, ours};
use cqrs_es::mem_store::MemStore;
use divan::Bencher;
use divan::counter::ItemsCount;

const WORKLOAD: Workload = Workload::new(1_000, 200_000);

fn main() {
    divan::main();
}

fn counter() -> ItemsCount {
    ItemsCount::new(WORKLOAD.total_commands())
}

fn bench_ours(
    bencher: Bencher,
    name: &'static str,
    build: fn(InMemoryEventStore) -> aggregato::Repository<ours::Account, InMemoryEventStore>,
) {
    bencher
        .counter(counter())
        .with_inputs(|| {
            (
                current_thread_runtime(),
                build(InMemoryEventStore::new()),
                WORKLOAD.account_ids(),
            )
        })
        .bench_local_values(|(runtime, repository, ids)| {
            runtime.block_on(ours::run(&repository, &ids, &WORKLOAD));
            VerifyOnDrop::new(
                (runtime, repository, ids),
                move |(runtime, repository, ids)| {
                    runtime.block_on(ours::verify(name, &repository, &ids, &WORKLOAD));
                },
            )
        });
}

/// `common::ours::repository`: the repository with its state cache.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn ours(bencher: Bencher) {
    bench_ours(bencher, "aggregato", ours::repository);
}

/// A plain `Repository::new`: every command replays its account's stream.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn ours_full_replay(bencher: Bencher) {
    bench_ours(
        bencher,
        "aggregato, full replay",
        ours::full_replay_repository,
    );
}

/// cqrs-es with its `MemStore` as shipped (two `println!` per command).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn cqrs_es_mem_store(bencher: Bencher) {
    bencher
        .counter(counter())
        .with_inputs(|| {
            let store = MemStore::<cqrs::CqrsAccount>::default();
            (
                current_thread_runtime(),
                cqrs::mem_store_framework(store.clone()),
                store,
                WORKLOAD.account_ids(),
            )
        })
        .bench_local_values(|(runtime, framework, store, ids)| {
            runtime.block_on(cqrs::run(&framework, &ids, &WORKLOAD));
            VerifyOnDrop::new((runtime, store, ids), |(runtime, store, ids)| {
                runtime.block_on(cqrs::verify("cqrs-es MemStore", &store, &ids, &WORKLOAD));
            })
        });
}

/// cqrs-es with a copy of `MemStore` that does not print.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn cqrs_es_quiet_mem_store(bencher: Bencher) {
    bencher
        .counter(counter())
        .with_inputs(|| {
            let store = cqrs::QuietMemStore::default();
            (
                current_thread_runtime(),
                cqrs::quiet_framework(store.clone()),
                store,
                WORKLOAD.account_ids(),
            )
        })
        .bench_local_values(|(runtime, framework, store, ids)| {
            runtime.block_on(cqrs::run(&framework, &ids, &WORKLOAD));
            VerifyOnDrop::new((runtime, store, ids), |(runtime, store, ids)| {
                runtime.block_on(cqrs::verify(
                    "cqrs-es quiet MemStore",
                    &store,
                    &ids,
                    &WORKLOAD,
                ));
            })
        });
}
