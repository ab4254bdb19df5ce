//! The outbox without a network: a publisher over a recording broker (CloudEvents bodies,
//! the checkpoint only after the acknowledgement, an outage, an unroutable message), and the
//! inbox on SQLite and PostgreSQL (one effect per message id, nothing written by a failed
//! attempt, old messages refused, purging).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aggregato::outbox::inbox::{InboxError, Receipt};
use aggregato::outbox::{
    Broker, CloudEvent, OutgoingMessage, PostgresInbox, PublishError, Publisher, SqliteInbox,
};
use aggregato::projection::{CheckpointStore, InMemoryCheckpoints, ProjectionError, Status};
use aggregato::{RetryPolicy, prelude::*};
use aggregato_examples::bank::*;
use time::OffsetDateTime;
use uuid::Uuid;

mod support;

/// What the recording broker saw.
#[derive(Debug, Default)]
struct Seen {
    acknowledged: Vec<OutgoingMessage>,
    attempts: u32,
    /// Checkpoints seen ahead of the last acknowledged message: must stay empty.
    ahead: Vec<(u64, u64)>,
}

/// A broker in memory: acknowledges, fails as told, and checks at every publish that the
/// publisher's checkpoint never ran ahead of what it acknowledged.
#[derive(Clone)]
struct Recording {
    seen: Arc<Mutex<Seen>>,
    checkpoints: InMemoryCheckpoints,
    outages: Arc<Mutex<u32>>,
    unroutable: bool,
}

impl Recording {
    fn new(checkpoints: &InMemoryCheckpoints) -> Self {
        Self {
            seen: Arc::default(),
            checkpoints: checkpoints.clone(),
            outages: Arc::default(),
            unroutable: false,
        }
    }
}

impl Broker for Recording {
    async fn publish(&mut self, messages: &[OutgoingMessage]) -> Result<(), PublishError> {
        let key = aggregato::projection::ProjectionKey::new("outbox", 1);
        let checkpoint = self
            .checkpoints
            .state(&key)
            .await
            .ok()
            .flatten()
            .map_or(0, |state| state.position);
        let mut seen = self.seen.lock().expect("lock");
        seen.attempts += 1;
        let acknowledged = seen.acknowledged.last().map_or(0, |last| last.position);
        if checkpoint > acknowledged {
            seen.ahead.push((checkpoint, acknowledged));
        }
        if self.unroutable {
            return Err(PublishError::Unroutable {
                destination: "bank/MoneyDeposited".into(),
                message_id: messages[0].id,
            });
        }
        let mut outages = self.outages.lock().expect("lock");
        if *outages > 0 {
            *outages -= 1;
            return Err(PublishError::Unavailable("connection refused".into()));
        }
        seen.acknowledged.extend_from_slice(messages);
        Ok(())
    }
}

type Store = Arc<InMemoryEventStore>;

/// Opens `accounts` accounts with `deposits` deposits each; returns the store's last position.
async fn history(store: &Store, accounts: usize, deposits: u64) -> u64 {
    let bank: Repository<BankAccount, _> =
        Repository::new_with_services(Arc::clone(store), BankServices::default());
    for n in 0..accounts {
        let id = AccountId(format!("acc{n}"));
        let open = OpenAccount {
            account_id: id.clone(),
            owner: format!("owner {n}"),
        };
        bank.execute(&id, open).await.expect("open");
        for _ in 0..deposits {
            bank.execute(&id, DepositMoney { amount: 10 })
                .await
                .expect("deposit");
        }
    }
    store.head_position().await.expect("head").expect("known")
}

#[tokio::test]
async fn a_publisher_sends_every_event_as_a_cloud_event_and_checkpoints_after_the_ack() {
    let store = Store::default();
    let head = history(&store, 5, 20).await;
    let checkpoints = InMemoryCheckpoints::new();
    let broker = Recording::new(&checkpoints);
    *broker.outages.lock().expect("lock") = 3;
    let mut runner = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints.clone(),
        Publisher::new(broker.clone(), "urn:test:bank"),
    )
    .with_batch_size(16)
    .with_retry(RetryPolicy::immediate(10));
    let progress = runner
        .catch_up()
        .await
        .expect("publishes despite the outage");
    assert_eq!(progress.position, head);

    let stored = store.read_all(0, 1000).await.expect("read");
    let seen = broker.seen.lock().expect("lock");
    assert!(
        seen.ahead.is_empty(),
        "the checkpoint ran ahead of the acks: {:?}",
        seen.ahead
    );
    assert_eq!(seen.attempts as u64, 3 + head.div_ceil(16));
    assert_eq!(seen.acknowledged.len(), stored.len(), "each event once");
    for (message, event) in seen.acknowledged.iter().zip(&stored) {
        assert_eq!(
            (message.id, message.position),
            (event.event_id, event.position)
        );
        let cloud_event = CloudEvent::from_slice(&message.body).expect("a CloudEvent");
        assert_eq!(cloud_event.source, "urn:test:bank");
        assert_eq!(cloud_event.subject, event.stream_id);
        let decoded = cloud_event.decode::<BankAccountEvent>().expect("decodes");
        assert_eq!(
            decoded.payload,
            event
                .clone()
                .decode::<BankAccountEvent>()
                .expect("stored")
                .payload
        );
        assert_eq!(
            (decoded.version, decoded.position),
            (event.version, event.position)
        );
        assert_eq!(
            decoded.metadata.correlation_id,
            event.metadata.correlation_id
        );
    }
}

#[test]
fn the_wire_format_is_cloud_events_structured_json() {
    let envelope = aggregato::EventEnvelope {
        event_id: Uuid::now_v7(),
        stream_id: "BankAccount-acc0".into(),
        aggregate_type: "BankAccount".into(),
        version: 3,
        position: 5_000_000_000,
        recorded_at: OffsetDateTime::UNIX_EPOCH,
        event_type: "MoneyDeposited".into(),
        event_version: 1,
        metadata: Metadata::default().with_correlation_id(Uuid::nil()),
        payload: (),
    };
    let payload = aggregato::event::Payload::encode(&MoneyDeposited {
        amount: 10,
        balance: 10,
    })
    .expect("payload");
    let body = CloudEvent::new(&envelope, &payload, "urn:test")
        .expect("event")
        .to_vec()
        .expect("json");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(json["specversion"], "1.0");
    assert_eq!(json["type"], "MoneyDeposited");
    assert_eq!(json["subject"], "BankAccount-acc0");
    assert_eq!(json["time"], "1970-01-01T00:00:00Z");
    assert_eq!(json["datacontenttype"], "application/json");
    assert_eq!(
        json["data"],
        serde_json::json!({"amount": 10, "balance": 10})
    );
    // Beyond CloudEvents' 32-bit integers: strings.
    assert_eq!(json["position"], "5000000000");
    assert_eq!(json["streamversion"], "3");
    assert_eq!(json["correlationid"], Uuid::nil().to_string());
    assert!(json.get("causationid").is_none());
    let mut wrong = json.clone();
    wrong["specversion"] = "0.3".into();
    let error =
        CloudEvent::from_slice(&serde_json::to_vec(&wrong).expect("json")).expect_err("0.3");
    assert!(error.to_string().contains("0.3"), "{error}");
}

#[tokio::test]
async fn an_unroutable_message_stops_the_publisher_without_moving_the_checkpoint() {
    let store = Store::default();
    history(&store, 1, 2).await;
    let checkpoints = InMemoryCheckpoints::new();
    let mut broker = Recording::new(&checkpoints);
    broker.unroutable = true;
    let mut runner = ProjectionRunner::new(
        Arc::clone(&store),
        checkpoints.clone(),
        Publisher::new(broker.clone(), "urn:test:bank"),
    )
    .with_retry(Publisher::<Recording>::retry_policy());
    let error = runner.catch_up().await.expect_err("unroutable");
    match &error {
        ProjectionError::Failed {
            attempts,
            error,
            position,
            ..
        } => {
            assert_eq!((*attempts, *position), (1, 1), "not retried");
            assert!(error.contains("bank/MoneyDeposited"), "{error}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    let state = checkpoints
        .state(runner.key())
        .await
        .expect("state")
        .expect("row");
    assert_eq!((state.status, state.position), (Status::Failed, 0));
    assert!(broker.seen.lock().expect("lock").acknowledged.is_empty());
}

/// The inbox's promises on one database: `receive` and `effect` are the inbox's calls and
/// one effect (an insert into a table of the test) through its transaction.
macro_rules! inbox_checks {
    ($inbox:expr, $count:expr, $effect:expr) => {{
        let inbox = $inbox;
        let message = Uuid::now_v7();
        let now = OffsetDateTime::now_utc();

        // A failed attempt writes nothing: the redelivery is handled as new.
        match inbox.receive(message, now).await.expect("receive") {
            Receipt::New(mut transaction) => {
                $effect(transaction.connection(), message).await;
                transaction.rollback().await.expect("roll back");
            }
            Receipt::Duplicate => panic!("a new message"),
        }
        assert_eq!($count(message).await, 0);
        for _ in 0..3 {
            match inbox.receive(message, now).await.expect("receive") {
                Receipt::New(mut transaction) => {
                    $effect(transaction.connection(), message).await;
                    transaction.commit().await.expect("commit");
                }
                Receipt::Duplicate => {}
            }
        }
        assert_eq!($count(message).await, 1, "one effect for three deliveries");

        // Older than the retention: refused, nothing written.
        let old = Uuid::now_v7();
        let inbox = inbox.with_retention(Duration::from_secs(60));
        let refused = inbox
            .receive(old, now - Duration::from_secs(3600))
            .await
            .expect_err("too old");
        assert!(matches!(refused, InboxError::TooOld { message_id, .. } if message_id == old));
        // A duplicate is still recognised, however old.
        assert!(matches!(
            inbox.receive(message, now - Duration::from_secs(3600)).await.expect("receive"),
            Receipt::Duplicate
        ));
        // Purged after the retention.
        let inbox = inbox.with_retention(Duration::ZERO);
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(inbox.purge().await.expect("purge"), 1);
    }};
}

#[tokio::test]
async fn the_inbox_on_sqlite_has_one_effect_per_message() {
    let store = support::stores::sqlite_store().await;
    let pool = store.store.pool().clone();
    sqlx::query("CREATE TABLE effects (message_id BLOB NOT NULL)")
        .execute(&pool)
        .await
        .expect("table");
    let count_pool = pool.clone();
    let count = |message: Uuid| {
        let pool = count_pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM effects WHERE message_id = $1")
                .bind(message)
                .fetch_one(&pool)
                .await
                .expect("count")
        }
    };
    inbox_checks!(
        SqliteInbox::new(pool.clone(), "test-consumer"),
        count,
        sqlite_effect
    );
}

#[tokio::test]
async fn the_inbox_on_postgres_has_one_effect_per_message() {
    let Some(store) = support::stores::postgres_store().await else {
        aggregato::testing::conformance::skipped(
            "the_inbox_on_postgres_has_one_effect_per_message",
        );
        return;
    };
    let pool = store.store.pool().clone();
    sqlx::query("CREATE TABLE effects (message_id UUID NOT NULL)")
        .execute(&pool)
        .await
        .expect("table");
    let count_pool = pool.clone();
    let count = |message: Uuid| {
        let pool = count_pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM effects WHERE message_id = $1")
                .bind(message)
                .fetch_one(&pool)
                .await
                .expect("count")
        }
    };
    inbox_checks!(
        PostgresInbox::new(pool.clone(), "test-consumer"),
        count,
        postgres_effect
    );
}

async fn sqlite_effect(connection: &mut sqlx::SqliteConnection, message: Uuid) {
    sqlx::query("INSERT INTO effects (message_id) VALUES ($1)")
        .bind(message)
        .execute(connection)
        .await
        .expect("effect");
}

async fn postgres_effect(connection: &mut sqlx::PgConnection, message: Uuid) {
    sqlx::query("INSERT INTO effects (message_id) VALUES ($1)")
        .bind(message)
        .execute(connection)
        .await
        .expect("effect");
}
