//! The cost of the generated dispatch: the same account twice, once with
//! `#[derive(Aggregate)]` (`common::ours::Account`: the derive's `match` calls each
//! `Handle<C>`/`Apply<E>` impl) and once with a hand-written `impl aggregato::Aggregate`
//! whose `handle`/`apply` are a plain `match` (`common::handwritten::HandAccount`), over the
//! same enums and the same rules. 10,000 commands (an open, then alternating deposits and
//! withdrawals) handled and applied directly on the state: no store, no serialization.

mod common;

use aggregato::Aggregate;
use common::handwritten::{HandAccount, decide_and_evolve};
use common::ours::{self, Account, AccountCommand};
use common::workload::Workload;
use common::{VerifyOnDrop, current_thread_runtime};
use divan::Bencher;
use divan::counter::ItemsCount;

const COMMANDS: usize = 10_000;
const WORKLOAD: Workload = Workload::new(1, COMMANDS - 1);

fn main() {
    divan::main();
}

fn commands() -> Vec<AccountCommand> {
    let id = Workload::account_id(0);
    WORKLOAD
        .ops()
        .map(|(_, op)| ours::command(op, &id))
        .collect()
}

fn bench<A>(bencher: Bencher, balance: fn(&A) -> i64, keep_events: bool)
where
    A: Aggregate<Command = AccountCommand, Services = ()> + 'static,
{
    let runtime = current_thread_runtime();
    bencher
        .counter(ItemsCount::new(COMMANDS))
        .with_inputs(commands)
        .bench_local_values(|commands| {
            let state =
                runtime.block_on(decide_and_evolve(A::initial_state(), commands, keep_events));
            VerifyOnDrop::new(state, move |state| {
                WORKLOAD.verify(A::AGGREGATE_TYPE, |_| balance(&state));
            })
        });
}

/// `#[derive(Aggregate)]`: the generated dispatch.
#[divan::bench(sample_count = 200)]
fn derived(bencher: Bencher) {
    bench::<Account>(bencher, |state| state.ledger.balance, false);
}

/// A hand-written `impl Aggregate` with a plain `match`.
#[divan::bench(sample_count = 200)]
fn hand_written(bencher: Bencher) {
    bench::<HandAccount>(bencher, |state| state.ledger.balance, false);
}

/// The generated dispatch, each command's events kept as a repository keeps them.
#[divan::bench(sample_count = 200)]
fn derived_events_kept(bencher: Bencher) {
    bench::<Account>(bencher, |state| state.ledger.balance, true);
}

/// The hand-written `match`, each command's events kept as a repository keeps them.
#[divan::bench(sample_count = 200)]
fn hand_written_events_kept(bencher: Bencher) {
    bench::<HandAccount>(bencher, |state| state.ledger.balance, true);
}
