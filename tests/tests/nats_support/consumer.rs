//! The consuming side: a pull consumer that handles each message through a SQL inbox (its
//! record and its effect in one transaction) and acks after the commit.

use std::time::Duration;

use aggregato::outbox::nats::async_nats::jetstream::consumer::{AckPolicy, pull};
use aggregato::outbox::nats::async_nats::jetstream::{AckKind, stream::Stream};
use aggregato::outbox::nats::{decode, published_at};
use aggregato::outbox::{CloudEvent, PostgresInbox, Receipt, SqliteInbox};
use aggregato::prelude::*;
use aggregato::{PostgresEventStore, SqliteEventStore};
use aggregato_examples::bank::BankAccountEvent;
use futures_util::StreamExt as _;
use time::OffsetDateTime;

use crate::support::Guarded;
use crate::support::stores::{PgSchema, postgres_store};

const EFFECTS: &str = "CREATE TABLE nats_effects (event_id TEXT NOT NULL, stream_id TEXT NOT NULL, version BIGINT NOT NULL)";
const INSERT: &str = "INSERT INTO nats_effects (event_id, stream_id, version) VALUES ($1, $2, $3)";
const COUNT: &str = "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM nats_effects";

/// A consumer's inbox and the table its effects go to.
pub(crate) trait Effects {
    /// Handles `event`: records it in the inbox and writes its effect, in one transaction;
    /// whether it was new (`false`: a duplicate, nothing written).
    async fn handle(&self, event: &CloudEvent, sent_at: OffsetDateTime) -> bool;
    /// How many effects were written, and for how many distinct event ids.
    async fn count(&self) -> (i64, i64);
}

/// The inbox and effects in a SQLite file.
pub struct SqliteEffects {
    inbox: SqliteInbox,
    store: SqliteEventStore,
    _dir: tempfile::TempDir,
}

impl SqliteEffects {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("consumer.db").display());
        let store = SqliteEventStore::connect(&url).await.expect("open SQLite");
        sqlx::query(EFFECTS)
            .execute(store.pool())
            .await
            .expect("effects table");
        Self {
            inbox: SqliteInbox::new(store.pool().clone(), "nats-test"),
            store,
            _dir: dir,
        }
    }
}

impl SqliteEffects {
    /// The event id of every effect written, a duplicate effect included.
    pub async fn ids(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT event_id FROM nats_effects")
            .fetch_all(self.store.pool())
            .await
            .expect("read the effects")
    }
}

impl Effects for SqliteEffects {
    async fn handle(&self, event: &CloudEvent, sent_at: OffsetDateTime) -> bool {
        match self.inbox.receive(event.id, sent_at).await.expect("inbox") {
            Receipt::New(mut transaction) => {
                sqlx::query(INSERT)
                    .bind(event.id.to_string())
                    .bind(&event.subject)
                    .bind(i64::try_from(event.streamversion).expect("small"))
                    .execute(transaction.connection())
                    .await
                    .expect("write the effect");
                transaction.commit().await.expect("commit");
                true
            }
            Receipt::Duplicate => false,
        }
    }

    async fn count(&self) -> (i64, i64) {
        sqlx::query_as(COUNT)
            .fetch_one(self.store.pool())
            .await
            .expect("count the effects")
    }
}

/// The inbox and effects in a PostgreSQL schema of their own.
pub struct PostgresEffects {
    inbox: PostgresInbox,
    store: std::sync::Arc<Guarded<PostgresEventStore, PgSchema>>,
}

impl PostgresEffects {
    /// `None` without `DATABASE_URL` (the caller says it skipped).
    pub async fn new() -> Option<Self> {
        let store = postgres_store().await?;
        sqlx::query(EFFECTS)
            .execute(store.store.pool())
            .await
            .expect("effects table");
        Some(Self {
            inbox: PostgresInbox::new(store.store.pool().clone(), "nats-test"),
            store,
        })
    }
}

impl Effects for PostgresEffects {
    async fn handle(&self, event: &CloudEvent, sent_at: OffsetDateTime) -> bool {
        match self.inbox.receive(event.id, sent_at).await.expect("inbox") {
            Receipt::New(mut transaction) => {
                sqlx::query(INSERT)
                    .bind(event.id.to_string())
                    .bind(&event.subject)
                    .bind(i64::try_from(event.streamversion).expect("small"))
                    .execute(transaction.connection())
                    .await
                    .expect("write the effect");
                transaction.commit().await.expect("commit");
                true
            }
            Receipt::Duplicate => false,
        }
    }

    async fn count(&self) -> (i64, i64) {
        sqlx::query_as(COUNT)
            .fetch_one(self.store.store.pool())
            .await
            .expect("count the effects")
    }
}

/// What a consumer saw.
#[derive(Debug, Default)]
pub struct Consumed {
    /// Every delivery, redeliveries included.
    pub deliveries: usize,
    /// The events the inbox took as new, decoded, in the order they were handled.
    pub new: Vec<EventEnvelope<BankAccountEvent>>,
    /// Deliveries the inbox knew already.
    pub duplicates: usize,
}

/// Reads `stream` with a new pull consumer until `deliveries` messages were delivered,
/// handling each through `effects`. The first `nak_first` new messages are not acked but
/// refused after their commit (as if the consumer died between the commit and the ack), so
/// JetStream delivers them again.
pub async fn consume(
    stream: &Stream,
    effects: &impl Effects,
    deliveries: usize,
    nak_first: usize,
) -> Consumed {
    let consumer = stream
        .create_consumer(pull::Config {
            ack_policy: AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            ..Default::default()
        })
        .await
        .expect("create a pull consumer");
    let mut messages = consumer.messages().await.expect("consume");
    let mut consumed = Consumed::default();
    while consumed.deliveries < deliveries {
        let message = tokio::time::timeout(Duration::from_secs(20), messages.next())
            .await
            .unwrap_or_else(|_| panic!("no message after {consumed:?}"))
            .expect("the consumer goes on")
            .expect("a message");
        consumed.deliveries += 1;
        let event = decode(&message).expect("a CloudEvent");
        let sent_at = published_at(&message).expect("a JetStream message");
        if effects.handle(&event, sent_at).await {
            consumed
                .new
                .push(event.decode().expect("a bank account event"));
            if consumed.new.len() <= nak_first {
                message.ack_with(AckKind::Nak(None)).await.expect("nak");
                continue;
            }
        } else {
            consumed.duplicates += 1;
        }
        // Only after the commit.
        message.ack().await.expect("ack");
    }
    consumed
}
