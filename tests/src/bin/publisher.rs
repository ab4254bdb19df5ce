//! Runs the outbox's [`Publisher`] with `ProjectionRunner::run` in a process of its own, for
//! `tests/outbox_processes.rs` to kill and restart.
//!
//! ```text
//! publisher --sqlite PATH --owner LABEL
//!           (--nats URL | --amqp URL | --kafka BROKERS) --prefix PREFIX
//!           [--batch N] [--lease-ms MS]
//! ```
//!
//! The events and the publisher's checkpoint (`SqliteCheckpoints`) share the SQLite file at
//! PATH, which the parent created. With `--nats` it publishes under the subject prefix PREFIX
//! (a stream taking `PREFIX.>` must exist); with `--amqp`, to the exchange `PREFIX.<aggregate
//! type>` (declared here, idempotently); with `--kafka`, to the topic `PREFIX.<aggregate type>`
//! (which the parent created). The owner id is derived from the label, so a
//! restarted process with the same label takes its claim back at once instead of waiting for
//! the lease.
//!
//! It prints, for the parent to parse: `ready owner=O`, then `committed position=P` after
//! each batch the broker acknowledged and whose checkpoint committed, `caught-up position=P`
//! at the end of the log, and `stopped` or `failed: ...` at the end. On stdin, `stop` (or end
//! of input) shuts it down. SIGKILL ends it without cleanup, as a crash would.

use std::io::BufRead;
use std::str::FromStr;
use std::time::Duration;

use aggregato::outbox::kafka::KafkaBroker;
use aggregato::outbox::nats::{NatsBroker, async_nats};
use aggregato::outbox::rabbitmq::RabbitMqBroker;
use aggregato::outbox::{Broker, Publisher};
use aggregato::projection::sqlite::SqliteCheckpoints;
use aggregato::{ProjectionRunner, SqliteEventStore};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use tokio::sync::oneshot;
use uuid::Uuid;

enum Target {
    Nats(String),
    Amqp(String),
    Kafka(String),
}

struct Options {
    sqlite: String,
    owner: String,
    target: Target,
    prefix: String,
    batch: usize,
    lease: Duration,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let (mut sqlite, mut owner, mut target, mut prefix) = (None, None, None, None);
    let mut batch = 100;
    let mut lease = Duration::from_secs(2);
    let number = |value: Option<String>, name: &str| -> Result<u64, String> {
        let value = value.ok_or_else(|| format!("{name} needs a value"))?;
        value
            .parse()
            .map_err(|_| format!("{name} needs a number, got {value}"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sqlite" => sqlite = args.next(),
            "--owner" => owner = args.next(),
            "--nats" => target = args.next().map(Target::Nats),
            "--amqp" => target = args.next().map(Target::Amqp),
            "--kafka" => target = args.next().map(Target::Kafka),
            "--prefix" => prefix = args.next(),
            "--batch" => {
                batch = usize::try_from(number(args.next(), &arg)?).map_err(|e| e.to_string())?;
            }
            "--lease-ms" => lease = Duration::from_millis(number(args.next(), &arg)?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Options {
        sqlite: sqlite.ok_or("--sqlite PATH is required")?,
        owner: owner.ok_or("--owner LABEL is required")?,
        target: target.ok_or("--nats URL, --amqp URL or --kafka BROKERS is required")?,
        prefix: prefix.ok_or("--prefix PREFIX is required")?,
        batch,
        lease,
    })
}

fn main() {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("publisher: {problem}");
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
    let stop = listen_to_stdin();
    let connect = SqliteConnectOptions::from_str(&options.sqlite)
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
    match &options.target {
        Target::Nats(url) => {
            let client = async_nats::connect(url.as_str())
                .await
                .map_err(|error| error.to_string())?;
            let broker = NatsBroker::new(async_nats::jetstream::new(client), &options.prefix);
            publish(&options, store, checkpoints, broker, stop).await
        }
        Target::Amqp(url) => {
            let mut broker = RabbitMqBroker::connect(url.clone())
                .await
                .map_err(|error| error.to_string())?
                .with_exchange_prefix(options.prefix.clone());
            broker
                .declare_exchanges(["BankAccount"])
                .await
                .map_err(|error| error.to_string())?;
            publish(&options, store, checkpoints, broker, stop).await
        }
        Target::Kafka(brokers) => {
            let broker =
                KafkaBroker::new(brokers, &options.prefix).map_err(|error| error.to_string())?;
            publish(&options, store, checkpoints, broker, stop).await
        }
    }
}

async fn publish<B: Broker>(
    options: &Options,
    store: SqliteEventStore,
    checkpoints: SqliteCheckpoints,
    broker: B,
    stop: oneshot::Receiver<()>,
) -> Result<(), String> {
    let owner = Uuid::new_v5(&Uuid::NAMESPACE_OID, options.owner.as_bytes());
    let publisher: Publisher<B, sqlx::SqliteConnection> = Publisher::new(broker, "urn:test");
    let mut runner = ProjectionRunner::new(store, checkpoints, publisher)
        .with_owner(owner)
        .with_retry(Publisher::<B, sqlx::SqliteConnection>::retry_policy())
        .with_batch_size(options.batch)
        .with_lease(options.lease)
        .with_claim_interval(Duration::from_millis(100))
        .with_poll_interval(Duration::from_millis(50))
        // Called once a batch's checkpoint committed, after the broker acknowledged it.
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
        Err(error) => Err(format!("run ended with an error: {error}")),
    }
}

/// Reads stdin on a thread of its own; `stop`, or the end of input, completes the returned
/// receiver.
fn listen_to_stdin() -> oneshot::Receiver<()> {
    let (stop, stopped) = oneshot::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if line.trim() == "stop" {
                break;
            }
            println!("unknown command {line:?}");
        }
        let _ = stop.send(());
    });
    stopped
}
