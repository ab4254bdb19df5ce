//! What the Kafka outbox tests share: the cluster (`KAFKA_BROKERS`), a topic prefix of each
//! test's own (its topics deleted after it), consumers, and a handler whose effect records
//! the event id through the inbox's transaction.

#![allow(dead_code)] // Each test uses the part it needs.

pub mod tansu;

use std::ops::ControlFlow;
use std::time::Duration;

use aggregato::outbox::kafka::rdkafka::ClientConfig;
use aggregato::outbox::kafka::rdkafka::admin::{AdminClient, AdminOptions};
use aggregato::outbox::kafka::rdkafka::client::DefaultClientContext;
use aggregato::outbox::kafka::rdkafka::consumer::{Consumer as _, StreamConsumer};
use aggregato::outbox::kafka::{
    KafkaBroker, MessageOutcome, consume, consumer_config, handle_message,
};
use aggregato::outbox::{CloudEvent, DeliveryHandler, DeliveryInbox};
use aggregato::projection::BoxError;

/// Whether this is a CI run: `CI` is set, and is not empty, `false` or `0`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// Says that `test` was skipped for lack of `what`; in CI, where a skipped test would pass for
/// a tested one, fails it instead.
pub fn skipped(test: &str, what: &str) {
    assert!(
        !in_ci(),
        "{test}: {what}, and CI is set: the Kafka tests must run in CI"
    );
    eprintln!("skipped {test}: {what}");
}

/// `KAFKA_BROKERS`, or `None` after saying the test is skipped.
pub fn kafka_brokers(test: &str) -> Option<String> {
    let brokers = std::env::var("KAFKA_BROKERS")
        .ok()
        .filter(|brokers| !brokers.is_empty());
    if brokers.is_none() {
        skipped(test, "KAFKA_BROKERS is not set");
    }
    brokers
}

/// A topic prefix of one test's own on one cluster; the topics it created are deleted when
/// this is dropped.
pub struct Kafka {
    pub brokers: String,
    pub prefix: String,
    topics: Vec<String>,
}

impl Kafka {
    /// A fresh prefix on `KAFKA_BROKERS`; `None` (skipped) without it.
    pub fn fresh(test: &str) -> Option<Self> {
        let brokers = kafka_brokers(test)?;
        Some(Self::on(brokers))
    }

    /// A fresh prefix on `brokers`.
    pub fn on(brokers: String) -> Self {
        Self {
            brokers,
            prefix: format!("aggregato_test.{}", uuid::Uuid::now_v7().simple()),
            topics: Vec::new(),
        }
    }

    /// A broker publishing under the test's prefix, with the default settings.
    pub fn broker(&self) -> KafkaBroker {
        KafkaBroker::new(&self.brokers, &self.prefix).expect("a producer")
    }

    /// A broker under the test's prefix with `settings` added to the defaults.
    pub fn broker_with(&self, settings: &[(&str, &str)]) -> KafkaBroker {
        let mut config = KafkaBroker::config(&self.brokers);
        for (key, value) in settings {
            config.set(*key, *value);
        }
        KafkaBroker::from_config(config, &self.prefix).expect("a producer")
    }

    /// The bank's topic, `<prefix>.BankAccount`.
    pub fn topic(&self) -> String {
        self.broker().topic_for("BankAccount")
    }

    /// Creates the bank's topic with `partitions` partitions; its name.
    pub async fn create_topic(&mut self, partitions: i32) -> String {
        let topic = self.topic();
        let created = self
            .broker()
            .create_topics([&topic], partitions, 1)
            .await
            .unwrap_or_else(|error| {
                panic!("KAFKA_BROKERS is set but topic {topic} cannot be created: {error}")
            });
        assert_eq!(created, std::slice::from_ref(&topic));
        self.topics.push(topic.clone());
        topic
    }

    /// A consumer in a group of its own (starting at the oldest message, offsets committed by
    /// hand), subscribed to `topic`.
    pub fn consumer(&self, topic: &str) -> StreamConsumer {
        let group = format!("{}.{}", self.prefix, uuid::Uuid::now_v7().simple());
        let consumer: StreamConsumer = consumer_config(&self.brokers, &group)
            .create()
            .expect("a consumer");
        consumer.subscribe(&[topic]).expect("subscribe");
        consumer
    }

    /// How many messages `topic` holds: its partitions' high watermarks (the next offset; a
    /// test's topic is fresh, its offsets start at 0, and tansu's low watermark does not
    /// always say so).
    pub fn messages(&self, topic: &str, partitions: i32) -> i64 {
        let consumer: StreamConsumer = consumer_config(&self.brokers, &self.prefix)
            .create()
            .expect("a consumer");
        (0..partitions)
            .map(|partition| {
                let (_, high) = consumer
                    .fetch_watermarks(topic, partition, Duration::from_secs(10))
                    .expect("the partition's watermarks");
                high
            })
            .sum()
    }
}

impl Drop for Kafka {
    fn drop(&mut self) {
        if self.topics.is_empty() {
            return;
        }
        // Drop runs inside the test's runtime, where blocking is not allowed.
        let (brokers, topics) = (self.brokers.clone(), self.topics.clone());
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async {
                let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
                    .set("bootstrap.servers", &brokers)
                    .create()
                    .map_err(|error| error.to_string())?;
                let names: Vec<&str> = topics.iter().map(String::as_str).collect();
                admin
                    .delete_topics(&names, &AdminOptions::new())
                    .await
                    .map_err(|error| error.to_string())?;
                Ok::<_, String>(())
            })
        })
        .join();
        if !matches!(deleted, Ok(Ok(()))) {
            eprintln!(
                "could not delete test topics {:?}: {deleted:?}",
                self.topics
            );
        }
    }
}

/// The effect: the event's id, stream and version, one row per handling, so a second effect
/// would show. Works on SQLite and PostgreSQL alike.
pub struct RecordEffect;

/// The effects table [`RecordEffect`] writes to.
pub const EFFECTS: &str = "CREATE TABLE kafka_effects (event_id TEXT NOT NULL, stream_id TEXT NOT NULL, version BIGINT NOT NULL)";

const INSERT: &str = "INSERT INTO kafka_effects (event_id, stream_id, version) VALUES ($1, $2, $3)";

impl DeliveryHandler<sqlx::SqliteConnection> for RecordEffect {
    async fn handle(
        &mut self,
        event: &CloudEvent,
        connection: &mut sqlx::SqliteConnection,
    ) -> Result<(), BoxError> {
        sqlx::query(INSERT)
            .bind(event.id.to_string())
            .bind(&event.subject)
            .bind(i64::try_from(event.streamversion)?)
            .execute(connection)
            .await?;
        Ok(())
    }
}

impl DeliveryHandler<sqlx::PgConnection> for RecordEffect {
    async fn handle(
        &mut self,
        event: &CloudEvent,
        connection: &mut sqlx::PgConnection,
    ) -> Result<(), BoxError> {
        sqlx::query(INSERT)
            .bind(event.id.to_string())
            .bind(&event.subject)
            .bind(i64::try_from(event.streamversion)?)
            .execute(connection)
            .await?;
        Ok(())
    }
}

/// What a [`consume_all`] run saw.
#[derive(Debug, Default)]
pub struct Consumed {
    /// Handled for the first time.
    pub handled: u64,
    /// Dropped by the inbox.
    pub duplicates: u64,
}

/// Consumes `topic` through `inbox` with [`RecordEffect`] until `events` distinct events
/// were handled (within 120 s), then on until no message came for 3 s (the copies still
/// behind them); fails on any other outcome.
pub async fn consume_all<I>(kafka: &Kafka, topic: &str, inbox: &I, events: u64) -> Consumed
where
    I: DeliveryInbox,
    RecordEffect: DeliveryHandler<I::Connection>,
{
    let consumer = kafka.consumer(topic);
    let mut consumed = Consumed::default();
    let mut handler = RecordEffect;
    let count = |outcome: &MessageOutcome, consumed: &mut Consumed| match outcome {
        MessageOutcome::Handled { .. } => consumed.handled += 1,
        MessageOutcome::Duplicate { .. } => consumed.duplicates += 1,
        other => panic!("unexpected outcome {other:?}"),
    };
    let run = consume(&consumer, inbox, &mut handler, |outcome| {
        count(outcome, &mut consumed);
        if consumed.handled == events {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .unwrap_or_else(|_| panic!("{events} events handled within 120 s"))
        .expect("the consumer ran");
    while let Ok(message) = tokio::time::timeout(Duration::from_secs(3), consumer.recv()).await {
        let message = message.expect("a message");
        let outcome = handle_message(&consumer, inbox, &mut handler, &message)
            .await
            .expect("handled");
        count(&outcome, &mut consumed);
    }
    consumed
}
