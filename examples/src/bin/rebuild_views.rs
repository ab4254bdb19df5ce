//! Rebuilds the bank's SQL views (`aggregato_examples::bank_views`) with a progress bar.
//!
//! `cargo run -p aggregato-examples --bin rebuild_views` fills a temporary SQLite store with
//! 30,000 bank events (`-- --events N` for another number), builds the views, then rebuilds
//! them: the tables are emptied with the checkpoint set back to 0, in one transaction, and
//! every event is handled again, while an indicatif progress bar on stderr shows the position
//! against the log's head and the events per second. It prints the views' totals at the end.
//! The store options of the `bank` binary apply (`--sqlite FILE`, `--postgres URL [--schema
//! NAME]`); a store that holds events already is rebuilt as it is, not filled.

use std::time::Instant;

use aggregato::NewEvent;
use aggregato::prelude::*;
use aggregato::projection::Progress;
use aggregato_examples::bank::*;
use aggregato_examples::bank_views::run::{Mode, ViewsReport, run_views};
use aggregato_examples::store::{DATABASE_URL_VAR, ExampleStore, StoreChoice};
use indicatif::{ProgressBar, ProgressStyle};

/// How many events a rebuild batch (one transaction) holds: larger than the default, as a
/// rebuild runs alone and commits fewer times this way.
const REBUILD_BATCH: usize = 1_000;

/// How many events one append holds while filling the store.
const APPEND_CHUNK: usize = 1_000;

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("rebuild_views: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (events, store_args) = parse_events(std::env::args().skip(1))?;
    let choice = StoreChoice::from_args(store_args, std::env::var(DATABASE_URL_VAR).ok())?;
    let opened = choice.open().await?;
    println!("store: {}", opened.description);

    if opened.store.head_position().await?.unwrap_or(0) == 0 {
        let accounts = fill(opened.store.as_ref(), events).await?;
        println!("filled: {events} events on {accounts} accounts");
    }

    // A first build, as a running service would have; the rebuild then replays it all.
    let built = run_views(
        opened.store.clone(),
        &opened.database,
        Mode::CatchUp,
        REBUILD_BATCH,
        |_| {},
    )
    .await?;
    println!("built: checkpoint at #{}", built.progress.position);

    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template(
        "{spinner} rebuilding [{bar:40}] {pos}/{len} ({percent}%) {msg}",
    )?);
    let started = Instant::now();
    let report = run_views(
        opened.store.clone(),
        &opened.database,
        Mode::Rebuild,
        REBUILD_BATCH,
        {
            let bar = bar.clone();
            move |progress: &Progress| {
                if let Some(head) = progress.head {
                    bar.set_length(head);
                }
                bar.set_position(progress.position);
                bar.set_message(format!("{:.0} events/s", progress.events_per_second));
            }
        },
    )
    .await?;
    bar.finish_and_clear();
    print_report(&report, started.elapsed().as_secs_f64());
    Ok(())
}

/// Takes `--events N` out of the command line; the rest is the store's.
fn parse_events(args: impl IntoIterator<Item = String>) -> Result<(usize, Vec<String>), String> {
    let mut events = 30_000;
    let mut rest = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--events" {
            let value = args.next().ok_or("--events needs a number")?;
            events = value
                .parse()
                .map_err(|_| format!("--events needs a number, got {value:?}"))?;
        } else {
            rest.push(arg);
        }
    }
    Ok((events, rest))
}

/// Appends about `events` bank events: accounts of 100 events each (an opening, then two
/// deposits of 10 for every withdrawal of 5), in appends of [`APPEND_CHUNK`]. Returns how
/// many accounts.
async fn fill(
    store: &dyn ExampleStore,
    events: usize,
) -> Result<usize, Box<dyn std::error::Error>> {
    let accounts = events.div_ceil(100).max(1);
    let mut left = events;
    for n in 0..accounts {
        let per_account = left.min(100);
        left -= per_account;
        let id = format!("acc-{n:05}");
        let mut history: Vec<BankAccountEvent> = Vec::with_capacity(per_account);
        let mut balance = 0;
        for i in 0..per_account {
            history.push(if i == 0 {
                AccountOpened {
                    account_id: AccountId(id.clone()),
                    owner: format!("owner {n}"),
                }
                .into()
            } else if i % 3 == 0 {
                balance -= 5;
                MoneyWithdrawn { amount: 5, balance }.into()
            } else {
                balance += 10;
                MoneyDeposited {
                    amount: 10,
                    balance,
                }
                .into()
            });
        }
        let stream = format!("{}-{id}", BankAccount::AGGREGATE_TYPE);
        for chunk in history.chunks(APPEND_CHUNK) {
            let batch = chunk
                .iter()
                .map(|event| NewEvent::encode(BankAccount::AGGREGATE_TYPE, event, Metadata::new()))
                .collect::<Result<Vec<_>, _>>()?;
            store.append(&stream, ExpectedVersion::Any, batch).await?;
        }
    }
    Ok(accounts)
}

fn print_report(report: &ViewsReport, seconds: f64) {
    let progress = &report.progress;
    println!(
        "rebuilt: {} events in {seconds:.2} s ({:.0} events/s), checkpoint at #{} of #{}",
        progress.handled,
        progress.handled as f64 / seconds.max(f64::EPSILON),
        progress.position,
        progress.head.unwrap_or(progress.position)
    );
    let open = report
        .balances
        .iter()
        .filter(|account| account.open)
        .count();
    let total: u64 = report.balances.iter().map(|account| account.balance).sum();
    println!(
        "accounts: {} ({open} open), total balance {total}",
        report.balances.len()
    );
    for day in &report.days {
        println!("day {day}");
    }
}
