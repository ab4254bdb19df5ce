//! What the NATS outbox tests share: the server (`NATS_URL`), a stream and subject prefix of
//! each test's own (deleted after it), bank events to publish, a publisher's runner, and a
//! consumer that handles every message through a SQL inbox.

#![allow(dead_code)] // Each test uses the part it needs.

pub mod consumer;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use aggregato::outbox::Publisher;
use aggregato::outbox::nats::NatsBroker;
use aggregato::outbox::nats::async_nats::{self, jetstream};
use aggregato::prelude::*;
use aggregato::projection::{CheckpointStore as _, InMemoryCheckpoints, ProjectionKey};
use aggregato_examples::bank::*;

/// Whether this is a CI run: `CI` is set, and is not empty, `false` or `0`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// Says that `test` was skipped for lack of `what`; in CI, where a skipped test would pass for
/// a tested one, fails it instead.
pub fn skipped(test: &str, what: &str) {
    assert!(
        !in_ci(),
        "{test}: {what}, and CI is set: the NATS tests must run in CI"
    );
    eprintln!("skipped {test}: {what}");
}

/// `NATS_URL`, or `None` after saying the test is skipped.
pub fn nats_url(test: &str) -> Option<String> {
    let url = std::env::var("NATS_URL").ok().filter(|url| !url.is_empty());
    if url.is_none() {
        skipped(test, "NATS_URL is not set");
    }
    url
}

/// A subject prefix and a stream name of one test's own, on one server; the stream is
/// deleted when this is dropped.
pub struct Nats {
    pub url: String,
    pub context: jetstream::Context,
    pub prefix: String,
    pub stream: String,
}

impl Nats {
    /// Connects to `NATS_URL` under fresh names; `None` (skipped) without it.
    pub async fn fresh(test: &str) -> Option<Self> {
        let url = nats_url(test)?;
        let client = async_nats::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("NATS_URL is set but NATS is unusable: {error}"));
        let id = uuid::Uuid::now_v7().simple();
        Some(Self {
            url,
            context: jetstream::new(client),
            prefix: format!("aggregato_test.{id}"),
            stream: format!("AGGREGATO_TEST_{id}"),
        })
    }

    /// A broker publishing under the test's prefix.
    pub fn broker(&self) -> NatsBroker {
        NatsBroker::new(self.context.clone(), &self.prefix)
    }

    /// Creates the test's stream, taking every subject under its prefix.
    pub async fn create_stream(&self, duplicate_window: Duration) -> jetstream::stream::Stream {
        self.broker()
            .ensure_stream(&self.stream, duplicate_window)
            .await
            .expect("create the test's stream")
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, where blocking is not allowed.
        let (url, stream) = (self.url.clone(), self.stream.clone());
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async {
                let client = async_nats::connect(&url)
                    .await
                    .map_err(|error| error.to_string())?;
                match jetstream::new(client).delete_stream(&stream).await {
                    Ok(_) => Ok(()),
                    // The test made none (the unroutable one): nothing to delete.
                    Err(error) if error.to_string().contains("not found") => Ok(()),
                    Err(error) => Err(error.to_string()),
                }
            })
        })
        .join();
        if !matches!(deleted, Ok(Ok(()))) {
            eprintln!("could not delete test stream {}: {deleted:?}", self.stream);
        }
    }
}

/// How many accounts [`bank_history`] opens.
pub const ACCOUNTS: usize = 50;

/// Appends `ACCOUNTS * per_account` bank events to `store`: every account opened, then
/// deposits, the accounts taking turns, so one stream's events are spread over the log.
pub async fn bank_history<S: EventStore + 'static>(store: &Arc<S>, per_account: usize) {
    bank_events(store, 0, per_account).await;
}

/// Appends events `from..to` of each account's history (event 0 opens it; the others
/// deposit), the accounts taking turns.
pub async fn bank_events<S: EventStore + 'static>(store: &Arc<S>, from: usize, to: usize) {
    let bank: Repository<BankAccount, _> =
        Repository::new_with_services(Arc::clone(store), BankServices::default());
    for step in from..to {
        for account in 0..ACCOUNTS {
            let id = AccountId(format!("account-{account}"));
            if step == 0 {
                let open = OpenAccount {
                    account_id: id.clone(),
                    owner: format!("owner {account}"),
                };
                bank.execute(&id, open).await.expect("open");
            } else {
                let amount = u64::try_from(step).expect("small");
                bank.execute(&id, DepositMoney { amount })
                    .await
                    .expect("deposit");
            }
        }
    }
}

/// The ids of every event in `store`, in log order.
pub async fn event_ids<S: EventStore>(store: &S) -> Vec<uuid::Uuid> {
    store
        .read_all(0, usize::MAX)
        .await
        .expect("read the log")
        .into_iter()
        .map(|event| event.event_id)
        .collect()
}

/// A runner of a publisher to `broker`, under `name`, batches of 100.
pub fn publisher<S: EventStore>(
    store: S,
    checkpoints: InMemoryCheckpoints,
    broker: NatsBroker,
) -> ProjectionRunner<S, InMemoryCheckpoints, Publisher<NatsBroker>> {
    ProjectionRunner::new(
        store,
        checkpoints,
        Publisher::new(broker, "urn:aggregato:tests"),
    )
    .with_name("nats-outbox")
    .with_batch_size(100)
}

/// Where the publisher's checkpoint stands (0 before its first commit).
pub async fn checkpoint(checkpoints: &InMemoryCheckpoints, key: &ProjectionKey) -> u64 {
    checkpoints
        .state(key)
        .await
        .expect("read the checkpoint")
        .map_or(0, |state| state.position)
}

/// The message ids of the test stream's messages, in stream order.
pub async fn stored_ids(stream: &jetstream::stream::Stream) -> Vec<uuid::Uuid> {
    let stored = stream.get_info().await.expect("stream info").state.messages;
    let mut ids = Vec::new();
    for sequence in 1..=stored {
        let message = stream
            .get_raw_message(sequence)
            .await
            .expect("read a stored message");
        let id = message
            .headers
            .get("Nats-Msg-Id")
            .expect("a message id")
            .as_str()
            .parse()
            .expect("a uuid");
        ids.push(id);
    }
    ids
}
