//! Runs the account totals projection (`aggregato_tests::account_totals`) with
//! `ProjectionRunner::run` in a process of its own, for `tests/projection_processes.rs` to
//! kill, freeze, cut off and restart.
//!
//! ```text
//! projector (--postgres URL --schema NAME [--app-name NAME] [--idle-timeout-ms MS]
//!               [--acquire-timeout-ms MS]
//!            | --sqlite PATH)
//!           --owner LABEL [--lease-ms MS] [--claim-interval-ms MS] [--poll-ms MS]
//!           [--batch N]
//! ```
//!
//! The owner id is derived from the label, so a restarted process with the same label takes
//! its claim back at once instead of waiting for the lease. The schema and the read model's
//! table must exist (the parent makes them).
//!
//! It prints one line per event of interest, for the parent to parse: `ready`, `claimed
//! epoch=E position=P`, `caught-up position=P`, `fenced op=O epoch=E expected=P`, `lost
//! epoch=E`, `error op=O: ...`, `begun` (a batch's transaction is open), `committed
//! position=P`, `held`, `held-advance`, and `stopped` or `failed: ...` at the end. On stdin,
//! `stop` (or end of input) shuts it down, releasing the claim; `hold MS` makes the next
//! batch wait MS milliseconds before it begins (outside any transaction), and `hold-advance
//! MS` before it moves the checkpoint (inside its transaction, after its handlers' writes).
//! SIGTERM and SIGKILL end it without cleanup, as a crash would.

mod observed;

use std::io::BufRead;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aggregato::projection::postgres::PostgresCheckpoints;
use aggregato::projection::sqlite::SqliteCheckpoints;
use aggregato::projection::{CheckpointStore, Projection, ProjectionError, ProjectionRunner};
use aggregato::{EventStore, PostgresEventStore, SqliteEventStore};
use aggregato_tests::account_totals::{PgTotals, SqliteTotals};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use tokio::sync::oneshot;
use uuid::Uuid;

use observed::{Holds, Observed};

enum Target {
    Postgres {
        url: String,
        schema: String,
        app_name: String,
        idle_timeout: Duration,
        acquire_timeout: Duration,
    },
    Sqlite {
        path: String,
    },
}

struct Options {
    target: Target,
    owner: String,
    lease: Duration,
    claim_interval: Duration,
    poll: Duration,
    batch: usize,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut postgres = None;
    let mut schema = None;
    let mut app_name = "aggregato_projector".to_owned();
    let mut sqlite = None;
    let mut owner = None;
    let millis = |value: Option<String>, name: &str| -> Result<Duration, String> {
        let value = value.ok_or_else(|| format!("{name} needs a value"))?;
        let ms: u64 = value
            .parse()
            .map_err(|_| format!("{name} needs a number, got {value}"))?;
        Ok(Duration::from_millis(ms))
    };
    let mut lease = Duration::from_secs(1);
    let mut claim_interval = Duration::from_millis(200);
    let mut poll = Duration::from_millis(50);
    let mut idle_timeout = Duration::from_secs(2);
    let mut acquire_timeout = Duration::from_secs(30);
    let mut batch = 10;
    let mut args = args;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--postgres" => postgres = args.next(),
            "--schema" => schema = args.next(),
            "--app-name" => app_name = args.next().ok_or("--app-name needs a value")?,
            "--sqlite" => sqlite = args.next(),
            "--owner" => owner = args.next(),
            "--lease-ms" => lease = millis(args.next(), &arg)?,
            "--claim-interval-ms" => claim_interval = millis(args.next(), &arg)?,
            "--poll-ms" => poll = millis(args.next(), &arg)?,
            "--idle-timeout-ms" => idle_timeout = millis(args.next(), &arg)?,
            "--acquire-timeout-ms" => acquire_timeout = millis(args.next(), &arg)?,
            "--batch" => {
                let value = args.next().ok_or("--batch needs a value")?;
                batch = value
                    .parse()
                    .map_err(|_| format!("--batch needs a number, got {value}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let target = match (postgres, schema, sqlite) {
        (Some(url), Some(schema), None) => Target::Postgres {
            url,
            schema,
            app_name,
            idle_timeout,
            acquire_timeout,
        },
        (None, None, Some(path)) => Target::Sqlite { path },
        _ => return Err("give either --postgres URL --schema NAME, or --sqlite PATH".into()),
    };
    Ok(Options {
        target,
        owner: owner.ok_or("--owner LABEL is required")?,
        lease,
        claim_interval,
        poll,
        batch,
    })
}

fn main() {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("projector: {problem}");
            std::process::exit(2);
        }
    };
    // The runner's own logs, for a human reading a failed test's output.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            println!("failed: no runtime: {error}");
            std::process::exit(1);
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => println!("stopped"),
        Err(error) => {
            println!("failed: {}", error.replace('\n', " "));
            std::process::exit(1);
        }
    }
}

async fn run(options: Options) -> Result<(), String> {
    let holds = Arc::new(Holds::default());
    let stop = listen_to_stdin(Arc::clone(&holds));
    match &options.target {
        Target::Postgres {
            url,
            schema,
            app_name,
            idle_timeout,
            acquire_timeout,
        } => {
            let connect = PgConnectOptions::from_str(url)
                .map_err(|error| error.to_string())?
                .options([("search_path", schema.as_str())])
                .application_name(app_name);
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(*acquire_timeout)
                .connect_with(connect)
                .await
                .map_err(|error| error.to_string())?;
            let store = PostgresEventStore::from_pool(pool.clone());
            let checkpoints =
                PostgresCheckpoints::new(pool).with_idle_in_transaction_timeout(*idle_timeout);
            let observed = Observed::new(checkpoints, holds);
            run_projection(&options, store, observed, PgTotals, stop).await
        }
        Target::Sqlite { path } => {
            let connect = SqliteConnectOptions::from_str(path)
                .map_err(|error| error.to_string())?
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(connect)
                .await
                .map_err(|error| error.to_string())?;
            let store = SqliteEventStore::from_pool(pool.clone());
            let checkpoints = SqliteCheckpoints::new(pool);
            let observed = Observed::new(checkpoints, holds);
            run_projection(&options, store, observed, SqliteTotals, stop).await
        }
    }
}

async fn run_projection<S, C, P>(
    options: &Options,
    store: S,
    checkpoints: C,
    projection: P,
    stop: oneshot::Receiver<()>,
) -> Result<(), String>
where
    S: EventStore,
    C: CheckpointStore<Transaction = P::Transaction>,
    P: Projection,
{
    let owner = Uuid::new_v5(&Uuid::NAMESPACE_OID, options.owner.as_bytes());
    let mut runner = ProjectionRunner::new(store, checkpoints, projection)
        .with_owner(owner)
        .with_batch_size(options.batch)
        .with_lease(options.lease)
        .with_claim_interval(options.claim_interval)
        .with_poll_interval(options.poll)
        .on_progress(|progress| {
            if progress.caught_up {
                println!("caught-up position={}", progress.position);
            } else {
                println!("committed position={}", progress.position);
            }
        });
    println!("ready owner={owner}");
    let shutdown = async {
        // A dropped sender (stdin closed) stops the run as `stop` does.
        let _ = stop.await;
    };
    match runner.run(shutdown).await {
        Ok(outcome) => {
            println!("outcome {outcome:?}");
            Ok(())
        }
        Err(error @ ProjectionError::Failed { .. }) => Err(error.to_string()),
        Err(error) => Err(format!("run ended with an error: {error}")),
    }
}

/// Reads commands from stdin on a thread of its own: `hold MS` and `hold-advance MS` set
/// `holds`; `stop`, or the end of input, completes the returned receiver.
fn listen_to_stdin(holds: Arc<Holds>) -> oneshot::Receiver<()> {
    let (stop, stopped) = oneshot::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let mut words = line.split_whitespace();
            match (words.next(), words.next().map(str::parse::<u64>)) {
                (Some("stop"), _) => break,
                (Some("hold"), Some(Ok(ms))) => holds.begin.store(ms, Ordering::SeqCst),
                (Some("hold-advance"), Some(Ok(ms))) => holds.advance.store(ms, Ordering::SeqCst),
                _ => println!("unknown command {line:?}"),
            }
        }
        let _ = stop.send(());
    });
    stopped
}
