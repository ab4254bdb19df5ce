//! The outbox's RabbitMQ broker and inbox consumer against the live RabbitMQ named by
//! `AMQP_URL` (e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`; `.ci/run` starts one and sets
//! it): a publisher delivers the bank's events in stream order, an unroutable message stops
//! it, and a consumer behind the inbox (SQLite, and PostgreSQL when `DATABASE_URL` is set) has
//! one effect per event however often the queue delivers it. Each test declares exchanges and
//! queues of its own (`aggregato_test_<uuid>`), deleted at its end. Without `AMQP_URL` the
//! tests say they are skipped (and are counted as ignored when built without it); in CI they
//! fail instead.

mod support;

#[path = "outbox_rabbitmq/inbox.rs"]
mod inbox;

use std::collections::HashMap;
use std::sync::Arc;

use aggregato::outbox::rabbitmq::lapin::options::{
    BasicConsumeOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use aggregato::outbox::rabbitmq::lapin::types::{AMQPValue, FieldTable};
use aggregato::outbox::rabbitmq::lapin::{
    Channel, Connection, ConnectionProperties, Consumer, ExchangeKind,
};
use aggregato::outbox::rabbitmq::{CONTENT_TYPE, RabbitMqBroker, decode_delivery};
use aggregato::outbox::{Broker as _, PublishError, Publisher};
use aggregato::projection::{CheckpointStore as _, InMemoryCheckpoints, ProjectionError, Status};
use aggregato::{RetryPolicy, prelude::*};
use aggregato_examples::bank::*;
use futures_util_free::next_delivery;
use uuid::Uuid;

type Store = Arc<InMemoryEventStore>;

/// Whether this is a CI run: `CI` is set, and is not empty, `false` or `0`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// `AMQP_URL`, or `None` after saying that `test` is skipped; in CI, where a skipped test
/// would pass for a tested one, fails instead.
fn amqp_url(test: &str) -> Option<String> {
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

/// Fails in CI without `AMQP_URL`: the RabbitMQ tests would be skipped there.
#[test]
fn rabbitmq_tests_are_not_skipped_in_ci() {
    assert!(
        !in_ci() || std::env::var_os("AMQP_URL").is_some_and(|url| !url.is_empty()),
        "CI is set but AMQP_URL is not: the RabbitMQ tests would be skipped"
    );
}

/// The broker objects of one test: an exchange prefix of its own and a channel to set up,
/// read and delete queues and exchanges with.
struct Rabbit {
    url: String,
    prefix: String,
    connection: Connection,
    channel: Channel,
    queues: Vec<String>,
}

impl Rabbit {
    async fn new(url: String) -> Self {
        let connection = Connection::connect(&url, ConnectionProperties::default())
            .await
            .unwrap_or_else(|error| panic!("AMQP_URL is set but RabbitMQ is unusable: {error}"));
        let channel = connection.create_channel().await.expect("a channel");
        Self {
            url,
            prefix: format!("aggregato_test_{}", Uuid::now_v7().simple()),
            connection,
            channel,
            queues: Vec::new(),
        }
    }

    /// A broker publishing under this test's prefix, its exchanges declared.
    async fn broker(&self) -> RabbitMqBroker {
        let mut broker = RabbitMqBroker::connect(self.url.clone())
            .await
            .expect("connect the broker")
            .with_exchange_prefix(self.prefix.clone());
        let declared = broker
            .declare_exchanges(["BankAccount"])
            .await
            .expect("declare the exchange");
        assert_eq!(declared, [self.exchange()]);
        broker
    }

    fn exchange(&self) -> String {
        format!("{}.BankAccount", self.prefix)
    }

    /// A queue bound to the bank's exchange for every event; it expires a minute after its
    /// last use, should the test not get to delete it.
    async fn bound_queue(&mut self, name: &str) -> String {
        self.bound_queue_with(name, FieldTable::default()).await
    }

    /// [`bound_queue`](Self::bound_queue) with more queue arguments.
    async fn bound_queue_with(&mut self, name: &str, mut arguments: FieldTable) -> String {
        let queue = format!("{}.{name}", self.prefix);
        // Declared as the broker does (`declare_exchanges`), so either may come first.
        self.channel
            .exchange_declare(
                self.exchange().as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("declare the exchange");
        arguments.insert("x-expires".into(), AMQPValue::LongInt(60_000));
        self.channel
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions::default(),
                arguments,
            )
            .await
            .expect("declare the queue");
        self.channel
            .queue_bind(
                queue.as_str().into(),
                self.exchange().as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("bind the queue");
        self.queues.push(queue.clone());
        queue
    }

    /// How many messages wait in `queue`.
    async fn ready(&self, queue: &str) -> u32 {
        self.channel
            .queue_declare(
                queue.into(),
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

    /// A consumer of `queue` on a channel of its own, with manual acks.
    async fn consumer(&self, queue: &str) -> Consumer {
        let channel = self.connection.create_channel().await.expect("a channel");
        channel
            .basic_qos(64, Default::default())
            .await
            .expect("prefetch");
        channel
            .basic_consume(
                queue.into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume")
    }

    /// Deletes the test's queues and exchange.
    async fn clean_up(self) {
        for queue in &self.queues {
            self.channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .expect("delete the queue");
        }
        self.channel
            .exchange_delete(
                self.exchange().as_str().into(),
                ExchangeDeleteOptions::default(),
            )
            .await
            .expect("delete the exchange");
        let _ = self.connection.close(200, "done".into()).await;
    }
}

/// Opens `accounts` accounts with `deposits` deposits each; returns the store's events'
/// ids in position order.
async fn history(store: &Store, accounts: usize, deposits: usize) -> Vec<Uuid> {
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
    store
        .read_all(0, usize::MAX)
        .await
        .expect("read the log")
        .into_iter()
        .map(|event| event.event_id)
        .collect()
}

/// Publishes the whole log once, from checkpoint 0.
async fn publish_all(store: &Store, broker: RabbitMqBroker) -> u64 {
    let publisher: Publisher<_> = Publisher::new(broker, "urn:aggregato:tests");
    let mut runner =
        ProjectionRunner::new(Arc::clone(store), InMemoryCheckpoints::new(), publisher)
            .with_retry(RetryPolicy::immediate(2));
    let progress = runner.catch_up().await.expect("publish");
    assert!(progress.caught_up);
    progress.position
}

/// Utilities for reading a lapin consumer without a futures crate.
mod futures_util_free {
    use std::future::poll_fn;
    use std::pin::Pin;
    use std::time::Duration;

    use aggregato::outbox::rabbitmq::lapin::Consumer;
    use aggregato::outbox::rabbitmq::lapin::message::Delivery;
    use futures_core::Stream;

    /// The next delivery, failing the test after 10 s without one.
    pub async fn next_delivery(consumer: &mut Consumer) -> Delivery {
        let next = poll_fn(|cx| Pin::new(&mut *consumer).poll_next(cx));
        tokio::time::timeout(Duration::from_secs(10), next)
            .await
            .expect("a delivery within 10 s")
            .expect("the consumer is open")
            .expect("a delivery")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_amqp_url, ignore = "needs RabbitMQ: AMQP_URL is not set")]
async fn the_publisher_delivers_every_event_in_stream_order() {
    let Some(url) = amqp_url("the_publisher_delivers_every_event_in_stream_order") else {
        return;
    };
    let mut rabbit = Rabbit::new(url).await;
    let broker = rabbit.broker().await;
    let queue = rabbit.bound_queue("all").await;
    let store = Store::default();
    // 100 accounts, each opened and given 9 deposits: 1,000 events.
    let ids = history(&store, 100, 9).await;
    assert_eq!(ids.len(), 1_000);
    assert_eq!(publish_all(&store, broker).await, 1_000);

    let mut consumer = rabbit.consumer(&queue).await;
    let mut received = Vec::new();
    let mut versions: HashMap<String, u64> = HashMap::new();
    for _ in 0..ids.len() {
        let delivery = next_delivery(&mut consumer).await;
        let cloud_event = decode_delivery(&delivery).expect("a CloudEvent");
        let properties = &delivery.properties;
        assert_eq!(
            properties.message_id().as_ref().map(|id| id.to_string()),
            Some(cloud_event.id.to_string()),
            "message_id is the event id"
        );
        assert_eq!(
            properties.content_type().as_ref().map(|t| t.to_string()),
            Some(CONTENT_TYPE.to_owned())
        );
        assert_eq!(*properties.delivery_mode(), Some(2), "persistent");
        assert_eq!(delivery.routing_key.as_str(), cloud_event.event_type);
        let event = cloud_event
            .decode::<BankAccountEvent>()
            .expect("a bank account event");
        assert_eq!(event.event_id, cloud_event.id);
        let last = versions.entry(event.stream_id.clone()).or_insert(0);
        assert_eq!(
            event.version,
            *last + 1,
            "{}: in stream order",
            event.stream_id
        );
        *last = event.version;
        match (&event.payload, event.version) {
            (BankAccountEvent::AccountOpened(_), 1) | (BankAccountEvent::MoneyDeposited(_), _) => {}
            (other, version) => panic!("unexpected event {other:?} at version {version}"),
        }
        received.push(event.event_id);
        delivery.ack(Default::default()).await.expect("ack");
    }
    assert_eq!(received, ids, "every event, once, in the log's order");
    assert_eq!(versions.len(), 100);
    assert!(versions.values().all(|&version| version == 10));
    assert_eq!(rabbit.ready(&queue).await, 0, "nothing more");
    rabbit.clean_up().await;
}

/// Runs a publisher into an exchange no queue is bound to; returns the runner's error and the
/// publisher's state afterwards.
async fn publish_unroutable(
    broker: RabbitMqBroker,
) -> (ProjectionError, aggregato::projection::ProjectionState) {
    let store = Store::default();
    history(&store, 2, 2).await;
    let checkpoints = InMemoryCheckpoints::new();
    let publisher: Publisher<_> = Publisher::new(broker, "urn:aggregato:tests");
    let mut runner = ProjectionRunner::new(Arc::clone(&store), checkpoints.clone(), publisher)
        .with_retry(RetryPolicy::immediate(3));
    let error = runner
        .catch_up()
        .await
        .expect_err("an unroutable message stops the publisher");
    let state = checkpoints
        .state(runner.key())
        .await
        .expect("the state")
        .expect("a checkpoint");
    (error, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_amqp_url, ignore = "needs RabbitMQ: AMQP_URL is not set")]
async fn an_unroutable_message_stops_the_publisher_naming_its_destination() {
    let Some(url) = amqp_url("an_unroutable_message_stops_the_publisher_naming_its_destination")
    else {
        return;
    };
    let rabbit = Rabbit::new(url).await;
    // The exchange exists, but no queue is bound: RabbitMQ would ack and drop the message.
    let broker = rabbit.broker().await;
    let (error, state) = publish_unroutable(broker).await;
    let ProjectionError::Failed {
        position,
        attempts,
        error,
        ..
    } = &error
    else {
        panic!("expected the publisher to fail, got {error:?}");
    };
    let destination = format!("{}/AccountOpened", rabbit.exchange());
    assert!(
        error.contains("unroutable") && error.contains(&destination),
        "the error names `{destination}`: {error}"
    );
    assert_eq!(
        (*position, *attempts),
        (1, 1),
        "permanent: not retried, reported at the batch's first event"
    );
    assert_eq!(state.status, Status::Failed);
    assert_eq!(state.position, 0, "the checkpoint did not move");
    assert!(state.failure.is_some());
    rabbit.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_amqp_url, ignore = "needs RabbitMQ: AMQP_URL is not set")]
async fn a_missing_exchange_stops_the_publisher_too() {
    let Some(url) = amqp_url("a_missing_exchange_stops_the_publisher_too") else {
        return;
    };
    let rabbit = Rabbit::new(url).await;
    let broker = RabbitMqBroker::connect(rabbit.url.clone())
        .await
        .expect("connect")
        .with_exchange_prefix(format!("{}_never_declared", rabbit.prefix));
    let (error, state) = publish_unroutable(broker).await;
    let ProjectionError::Failed { error, .. } = &error else {
        panic!("expected the publisher to fail, got {error:?}");
    };
    let destination = format!("{}_never_declared.BankAccount/AccountOpened", rabbit.prefix);
    assert!(
        error.contains(&destination),
        "the error names `{destination}`: {error}"
    );
    assert_eq!((state.status, state.position), (Status::Failed, 0));
    rabbit.clean_up().await;
}

/// A message for the bank's exchange that no consumer here decodes.
fn raw_message(position: u64) -> aggregato::outbox::OutgoingMessage {
    aggregato::outbox::OutgoingMessage {
        id: Uuid::now_v7(),
        stream_id: "BankAccount-raw".to_owned(),
        aggregate_type: "BankAccount".to_owned(),
        event_type: "Raw".to_owned(),
        version: position,
        position,
        body: b"{}".to_vec(),
    }
}

/// Nothing listens on port 1: a broker that cannot be reached is unavailable, which the
/// publisher retries, not a permanent failure.
#[tokio::test]
async fn an_unreachable_broker_is_unavailable_not_failed() {
    let error = RabbitMqBroker::connect("amqp://guest:guest@127.0.0.1:1/%2f")
        .await
        .expect_err("nothing listens there");
    assert!(
        matches!(error, PublishError::Unavailable(_)),
        "unavailable: {error:?}"
    );
    assert!(!error.is_permanent());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_amqp_url, ignore = "needs RabbitMQ: AMQP_URL is not set")]
async fn the_broker_connects_again_after_losing_its_connection() {
    let Some(url) = amqp_url("the_broker_connects_again_after_losing_its_connection") else {
        return;
    };
    let mut rabbit = Rabbit::new(url).await;
    let mut broker = rabbit.broker().await;
    let queue = rabbit.bound_queue("reconnect").await;
    broker.publish(&[raw_message(1)]).await.expect("publish");
    broker
        .connection()
        .expect("connected")
        .close(320, "the test drops the connection".into())
        .await
        .expect("close the connection");
    broker
        .publish(&[raw_message(2), raw_message(3)])
        .await
        .expect("publish on a new connection");
    assert_eq!(rabbit.ready(&queue).await, 3);
    rabbit.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_amqp_url, ignore = "needs RabbitMQ: AMQP_URL is not set")]
async fn a_nacked_message_is_rejected_naming_it() {
    let Some(url) = amqp_url("a_nacked_message_is_rejected_naming_it") else {
        return;
    };
    let mut rabbit = Rabbit::new(url).await;
    let mut broker = rabbit.broker().await;
    // A full queue that refuses more: RabbitMQ nacks what it cannot take.
    let mut arguments = FieldTable::default();
    arguments.insert("x-max-length".into(), AMQPValue::LongInt(1));
    arguments.insert(
        "x-overflow".into(),
        AMQPValue::LongString("reject-publish".into()),
    );
    let queue = rabbit.bound_queue_with("full", arguments).await;
    let batch = [raw_message(1), raw_message(2), raw_message(3)];
    let error = broker
        .publish(&batch)
        .await
        .expect_err("the second message does not fit");
    let PublishError::Rejected { message_id, .. } = &error else {
        panic!("expected a rejection, got {error:?}");
    };
    assert_eq!(
        *message_id, batch[1].id,
        "the first message the broker nacked"
    );
    assert!(error.is_permanent());
    assert_eq!(rabbit.ready(&queue).await, 1);
    rabbit.clean_up().await;
}
