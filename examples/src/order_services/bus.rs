//! What both services share: their command line, NATS JetStream (one stream taking every
//! subject under the prefix), a publisher of one aggregate's events with its routes, and a
//! durable consumer of one route.

use std::future::Future;
use std::time::Duration;

use aggregato::outbox::nats::NatsBroker;
use aggregato::outbox::nats::async_nats::jetstream::consumer::pull;
use aggregato::outbox::nats::async_nats::{self, jetstream};
use aggregato::outbox::{CloudEvent, Publisher};
use aggregato::projection::postgres::PostgresCheckpoints;
use aggregato::projection::sqlite::SqliteCheckpoints;
use aggregato::projection::{CheckpointStore, RunOutcome};
use aggregato::{Aggregate, EventFilter, EventStore, ProjectionRunner};

use crate::store::{DATABASE_URL_VAR, Database, StoreChoice};

/// Errors of the services: they print them and exit.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The NATS server unless `--nats` or `NATS_URL` says otherwise.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// How long JetStream drops a republished message by its id; the services' idempotent
/// commands drop it after that too.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// The options both services take.
#[derive(Debug, Clone)]
pub struct Common {
    /// `--nats URL` (or `NATS_URL`, or [`DEFAULT_NATS_URL`]).
    pub nats_url: String,
    /// `--prefix P`: every subject is under it (`shop` by default).
    pub prefix: String,
    /// `--stream NAME`: the JetStream stream taking `<prefix>.>` (`SHOP` by default).
    pub stream: String,
    /// The store options of [`crate::store`]: `--sqlite PATH`, `--postgres URL`, `--schema`.
    pub store: StoreChoice,
}

impl Common {
    /// Reads the shared options out of `args`; returns the others as `(flag, value)` pairs for
    /// the service to read (each of its options takes a value).
    pub fn from_args(
        args: impl IntoIterator<Item = String>,
    ) -> Result<(Self, Vec<(String, String)>), String> {
        let mut nats_url = std::env::var("NATS_URL").ok().filter(|url| !url.is_empty());
        let (mut prefix, mut stream) = ("shop".to_owned(), "SHOP".to_owned());
        let mut store_args = Vec::new();
        let mut others = Vec::new();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--nats" => nats_url = Some(value),
                "--prefix" => prefix = value,
                "--stream" => stream = value,
                "--sqlite" | "--postgres" | "--schema" => store_args.extend([flag, value]),
                _ => others.push((flag, value)),
            }
        }
        let store = StoreChoice::from_args(store_args, std::env::var(DATABASE_URL_VAR).ok())
            .map_err(|error| error.to_string())?;
        let common = Self {
            nats_url: nats_url.unwrap_or_else(|| DEFAULT_NATS_URL.to_owned()),
            prefix,
            stream,
            store,
        };
        Ok((common, others))
    }
}

/// Reads a number option's value.
pub fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} needs a number, got {value}"))
}

/// A connection to NATS JetStream and the services' stream.
#[derive(Debug, Clone)]
pub struct Bus {
    context: jetstream::Context,
    prefix: String,
    stream: jetstream::stream::Stream,
}

impl Bus {
    /// Connects to the NATS of `common` and creates the stream unless it exists.
    pub async fn connect(common: &Common) -> Result<Self, BoxError> {
        let client = async_nats::connect(&common.nats_url)
            .await
            .map_err(|error| {
                format!(
                    "cannot reach NATS at {}: {error} (start one with `nats-server -js`)",
                    common.nats_url
                )
            })?;
        let context = jetstream::new(client);
        let stream = NatsBroker::new(context.clone(), &common.prefix)
            .ensure_stream(&common.stream, DUPLICATE_WINDOW)
            .await?;
        Ok(Self {
            context,
            prefix: common.prefix.clone(),
            stream,
        })
    }

    /// A broker publishing under the prefix.
    pub fn broker(&self) -> NatsBroker {
        NatsBroker::new(self.context.clone(), &self.prefix)
    }

    /// The messages published to `<prefix>.<route>`, through the durable consumer `name`:
    /// a service that restarts goes on after the last message it acked.
    pub async fn subscribe(&self, name: &str, route: &str) -> Result<pull::Stream, BoxError> {
        let consumer = self
            .stream
            .get_or_create_consumer(
                name,
                pull::Config {
                    durable_name: Some(name.to_owned()),
                    filter_subject: format!("{}.{route}", self.prefix),
                    ack_wait: Duration::from_secs(10),
                    ..Default::default()
                },
            )
            .await?;
        Ok(consumer.messages().await?)
    }
}

/// Runs the outbox publisher of aggregate `A`'s events in `store` until `shutdown`: each event
/// goes to NATS with `A`'s routes, its checkpoint kept in `database` (the store's own).
pub async fn publish<A: Aggregate, S: EventStore + 'static>(
    store: S,
    database: &Database,
    broker: NatsBroker,
    source: &str,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<RunOutcome, BoxError> {
    match database {
        Database::Sqlite(pool) => {
            let checkpoints = SqliteCheckpoints::new(pool.clone());
            checkpoints.migrate().await?;
            run_publisher::<A, _, _>(store, checkpoints, broker, source, shutdown).await
        }
        Database::Postgres(pool) => {
            let checkpoints = PostgresCheckpoints::new(pool.clone());
            checkpoints.migrate().await?;
            run_publisher::<A, _, _>(store, checkpoints, broker, source, shutdown).await
        }
    }
}

async fn run_publisher<A, S, C>(
    store: S,
    checkpoints: C,
    broker: NatsBroker,
    source: &str,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<RunOutcome, BoxError>
where
    A: Aggregate,
    S: EventStore,
    C: CheckpointStore,
    C::Transaction: Send + 'static,
{
    let publisher: Publisher<NatsBroker, C::Transaction> =
        Publisher::new(broker, source).with_routes::<A>();
    let mut runner = ProjectionRunner::new(store, checkpoints, publisher)
        .with_name(format!("{}-outbox", A::AGGREGATE_TYPE))
        .with_filter(EventFilter::all().aggregate_types([A::AGGREGATE_TYPE]))
        .with_retry(Publisher::<NatsBroker, C::Transaction>::retry_policy())
        .with_poll_interval(Duration::from_millis(50));
    Ok(runner.run(shutdown).await?)
}

/// The CloudEvent in a JetStream message.
pub fn decode(message: &jetstream::Message) -> Result<CloudEvent, BoxError> {
    Ok(aggregato::outbox::nats::decode(message)?)
}
