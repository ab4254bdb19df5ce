//! The RabbitMQ side of the crash test: an exchange and a classic queue of the test's own
//! (deleted after it, or when dropped), and a consumer that handles every delivery through a
//! SQLite inbox, its effect written in the inbox's transaction.

use std::ops::ControlFlow;
use std::time::Duration;

use aggregato::outbox::rabbitmq::lapin::options::{
    BasicConsumeOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use aggregato::outbox::rabbitmq::lapin::types::{AMQPValue, FieldTable};
use aggregato::outbox::rabbitmq::lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use aggregato::outbox::rabbitmq::{DeliveryHandler, DeliveryOutcome, consume};
use aggregato::outbox::{CloudEvent, SqliteInbox};
use aggregato::projection::BoxError;

use crate::nats_support::in_ci;
use crate::support::stores::sqlite_store;

/// `AMQP_URL`, or `None` after saying that `test` is skipped; in CI, fails instead.
pub fn amqp_url(test: &str) -> Option<String> {
    let url = std::env::var("AMQP_URL").ok().filter(|url| !url.is_empty());
    if url.is_none() {
        assert!(
            !in_ci(),
            "{test}: AMQP_URL is not set, and CI is: the RabbitMQ tests must run in CI"
        );
        eprintln!("skipped {test}: AMQP_URL is not set");
    }
    url
}

/// The test's exchange (`<prefix>.BankAccount`, as the publisher declares it) and a queue
/// bound to it for every event.
pub struct Rabbit {
    url: String,
    pub prefix: String,
    connection: Connection,
    channel: Channel,
    cleaned: bool,
}

impl Rabbit {
    /// Connects and declares the exchange and the queue.
    pub async fn new(url: String) -> Self {
        let connection = Connection::connect(&url, ConnectionProperties::default())
            .await
            .unwrap_or_else(|error| panic!("AMQP_URL is set but RabbitMQ is unusable: {error}"));
        let channel = connection.create_channel().await.expect("a channel");
        let rabbit = Self {
            url,
            prefix: format!("aggregato_test_{}", uuid::Uuid::now_v7().simple()),
            connection,
            channel,
            cleaned: false,
        };
        rabbit
            .channel
            .exchange_declare(
                rabbit.exchange().as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("declare the exchange");
        // Should the test not get to delete it, it goes two minutes after its last use.
        let mut arguments = FieldTable::default();
        arguments.insert("x-expires".into(), AMQPValue::LongInt(120_000));
        rabbit
            .channel
            .queue_declare(
                rabbit.queue().as_str().into(),
                QueueDeclareOptions::default(),
                arguments,
            )
            .await
            .expect("declare the queue");
        rabbit
            .channel
            .queue_bind(
                rabbit.queue().as_str().into(),
                rabbit.exchange().as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind the queue");
        rabbit
    }

    fn exchange(&self) -> String {
        format!("{}.BankAccount", self.prefix)
    }

    fn queue(&self) -> String {
        format!("{}.all", self.prefix)
    }

    /// How many messages wait in the queue.
    async fn ready(&self) -> u32 {
        self.channel
            .queue_declare(
                self.queue().as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("inspect the queue")
            .message_count()
    }

    /// Consumes the queue until it is empty, through a SQLite inbox whose effect records the
    /// event id; how many messages were delivered, and the effects' event ids.
    pub async fn consume_all(&self) -> (u64, Vec<String>) {
        let waiting = self.ready().await;
        let store = sqlite_store().await;
        let pool = store.store.pool().clone();
        sqlx::query("CREATE TABLE effects (event_id TEXT NOT NULL)")
            .execute(&pool)
            .await
            .expect("the effects table");
        let inbox = SqliteInbox::new(pool.clone(), "crash-test");
        inbox.migrate().await.expect("the inbox table");

        let channel = self.connection.create_channel().await.expect("a channel");
        channel
            .basic_qos(200, Default::default())
            .await
            .expect("prefetch");
        let mut consumer = channel
            .basic_consume(
                self.queue().as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume");
        let mut acked = 0;
        let mut handler = RecordId;
        let consumed = consume(&mut consumer, &inbox, &mut handler, |outcome| {
            match outcome {
                DeliveryOutcome::Handled { .. } | DeliveryOutcome::Duplicate { .. } => acked += 1,
                other => panic!("unexpected outcome {other:?}"),
            }
            if acked == waiting {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        tokio::time::timeout(Duration::from_secs(60), consumed)
            .await
            .expect("consumed within 60 s")
            .expect("the consumer ran");
        let _ = channel.close(200, "done".into()).await;
        assert_eq!(self.ready().await, 0, "every message was consumed");
        let ids = sqlx::query_scalar("SELECT event_id FROM effects")
            .fetch_all(&pool)
            .await
            .expect("read the effects");
        (u64::from(waiting), ids)
    }

    /// Deletes the queue and the exchange.
    pub async fn clean_up(mut self) {
        delete(&self.channel, &self.queue(), &self.exchange())
            .await
            .expect("delete the test's queue and exchange");
        self.cleaned = true;
        let _ = self.connection.close(200, "done".into()).await;
    }
}

/// The effect: the event's id, one row per handling, so a second effect would show.
struct RecordId;

impl DeliveryHandler<sqlx::SqliteConnection> for RecordId {
    async fn handle(
        &mut self,
        event: &CloudEvent,
        connection: &mut sqlx::SqliteConnection,
    ) -> Result<(), BoxError> {
        sqlx::query("INSERT INTO effects (event_id) VALUES ($1)")
            .bind(event.id.to_string())
            .execute(&mut *connection)
            .await?;
        Ok(())
    }
}

async fn delete(
    channel: &Channel,
    queue: &str,
    exchange: &str,
) -> Result<(), aggregato::outbox::rabbitmq::lapin::Error> {
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await?;
    channel
        .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
        .await?;
    Ok(())
}

impl Drop for Rabbit {
    /// A test that failed before its clean-up still deletes what it declared, on a
    /// connection and runtime of its own (drop may run inside the test's runtime).
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        let (url, queue, exchange) = (self.url.clone(), self.queue(), self.exchange());
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async {
                let connection = Connection::connect(&url, ConnectionProperties::default())
                    .await
                    .map_err(|error| error.to_string())?;
                let channel = connection
                    .create_channel()
                    .await
                    .map_err(|error| error.to_string())?;
                delete(&channel, &queue, &exchange)
                    .await
                    .map_err(|error| error.to_string())?;
                let _ = connection.close(200, "done".into()).await;
                Ok::<_, String>(())
            })
        })
        .join();
        if !matches!(deleted, Ok(Ok(()))) {
            eprintln!("could not delete the test's queue and exchange: {deleted:?}");
        }
    }
}
