//! Routing by an attribute on the event: `#[event(route = "...")]` fills the event set's table
//! of routes, a publisher given it (`Publisher::with_routes`) puts the route on each message,
//! NATS publishes to `<prefix>.<route>` and RabbitMQ uses it as the routing key, and a router
//! set on the broker wins over it. The broker tests run against the live servers of `NATS_URL`
//! and `AMQP_URL`, each in a stream, or exchanges and queues, of its own, deleted after it;
//! without its URL a test says it is skipped (and is counted as ignored when built without
//! it); in CI it fails.

mod nats_support;
mod support;

use std::sync::Arc;
use std::time::Duration;

use aggregato::event::EventRoute;
use aggregato::outbox::Publisher;
use aggregato::outbox::rabbitmq::RabbitMqBroker;
use aggregato::outbox::rabbitmq::lapin::options::{
    BasicGetOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use aggregato::outbox::rabbitmq::lapin::types::{AMQPValue, FieldTable};
use aggregato::outbox::rabbitmq::lapin::{Channel, Connection, ConnectionProperties};
use aggregato::outbox::{Broker, OutgoingMessage};
use aggregato::prelude::*;
use aggregato::projection::InMemoryCheckpoints;
use aggregato::{NewEvent, RetryPolicy};
use nats_support::{Nats, in_ci};
use serde::{Deserialize, Serialize};

/// Opened: no route, so routed by aggregate type and name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct PaymentOpened {
    pub cents: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(route = "payments.settled")]
pub struct PaymentSettled {
    pub cents: u64,
}

/// Once stored as `Refunded`: an old event published again takes the route too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(route = "payments.refunded", aliases("Refunded"))]
pub struct PaymentRefunded {
    pub cents: u64,
}

#[derive(Debug, Clone, Command)]
#[command(aggregate = Payment)]
pub struct Open;

#[derive(Debug, Default, Clone, Serialize, Deserialize, Aggregate)]
#[aggregate(
    id = String,
    events(PaymentOpened, PaymentSettled, PaymentRefunded),
    commands(Open)
)]
pub struct Payment;

impl Handle<Open> for Payment {
    async fn handle(&self, _: Open, _: &()) -> Result<Vec<PaymentEvent>, std::convert::Infallible> {
        Ok(vec![PaymentOpened { cents: 0 }.into()])
    }
}

impl Apply<PaymentOpened> for Payment {
    fn apply(&mut self, _: &PaymentOpened) {}
}

impl Apply<PaymentSettled> for Payment {
    fn apply(&mut self, _: &PaymentSettled) {}
}

impl Apply<PaymentRefunded> for Payment {
    fn apply(&mut self, _: &PaymentRefunded) {}
}

/// Another aggregate with an event of the same stored name and no route: routes are per
/// aggregate type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(name = "PaymentSettled")]
pub struct LedgerSettled {
    pub cents: u64,
}

#[derive(Debug, Clone, Command)]
#[command(aggregate = Ledger)]
pub struct Settle;

#[derive(Debug, Default, Clone, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, events(LedgerSettled), commands(Settle))]
pub struct Ledger;

impl Handle<Settle> for Ledger {
    async fn handle(
        &self,
        _: Settle,
        _: &(),
    ) -> Result<Vec<LedgerEvent>, std::convert::Infallible> {
        Ok(vec![LedgerSettled { cents: 0 }.into()])
    }
}

impl Apply<LedgerSettled> for Ledger {
    fn apply(&mut self, _: &LedgerSettled) {}
}

/// A do-nothing broker, for the publisher's table alone.
struct Nowhere;

impl Broker for Nowhere {
    async fn publish(
        &mut self,
        _: &[OutgoingMessage],
    ) -> Result<(), aggregato::outbox::PublishError> {
        Ok(())
    }
}

#[test]
fn the_route_attribute_fills_the_event_sets_table() {
    assert_eq!(PaymentOpened::EVENT_ROUTE, None);
    assert_eq!(PaymentSettled::EVENT_ROUTE, Some("payments.settled"));
    assert_eq!(
        PaymentEvent::EVENT_ROUTES,
        [
            EventRoute {
                event_type: "PaymentOpened",
                aliases: &[],
                route: None,
            },
            EventRoute {
                event_type: "PaymentSettled",
                aliases: &[],
                route: Some("payments.settled"),
            },
            EventRoute {
                event_type: "PaymentRefunded",
                aliases: &["Refunded"],
                route: Some("payments.refunded"),
            },
        ]
    );
    assert_eq!(LedgerEvent::EVENT_ROUTES[0].route, None);

    let publisher: Publisher<Nowhere> = Publisher::new(Nowhere, "urn:aggregato:tests")
        .with_routes::<Payment>()
        .with_routes::<Ledger>();
    assert_eq!(
        publisher.route("Payment", "PaymentSettled"),
        Some("payments.settled")
    );
    assert_eq!(
        publisher.route("Payment", "Refunded"),
        Some("payments.refunded"),
        "an alias routes as the event's name"
    );
    assert_eq!(publisher.route("Payment", "PaymentOpened"), None);
    assert_eq!(
        publisher.route("Ledger", "PaymentSettled"),
        None,
        "the same name in another aggregate keeps its own (no) route"
    );
    let unrouted: Publisher<Nowhere> = Publisher::new(Nowhere, "urn:aggregato:tests");
    assert_eq!(
        unrouted.route("Payment", "PaymentSettled"),
        None,
        "no routes unless given"
    );
}

/// A store with, in log order: `Payment-p1` opened and settled, a refund stored under its
/// old name `Refunded`, and `Ledger-l1` settled.
async fn payment_log() -> Arc<InMemoryEventStore> {
    let store = Arc::new(InMemoryEventStore::new());
    let payment = |event: PaymentEvent| {
        NewEvent::encode("Payment", &event, Metadata::new()).expect("encode a payment event")
    };
    let mut refund = payment(PaymentRefunded { cents: 5 }.into());
    refund.event_type = "Refunded".to_owned();
    store
        .append(
            "Payment-p1",
            ExpectedVersion::NoStream,
            vec![
                payment(PaymentOpened { cents: 10 }.into()),
                payment(PaymentSettled { cents: 10 }.into()),
                refund,
            ],
        )
        .await
        .expect("append the payment");
    let settled: LedgerEvent = LedgerSettled { cents: 10 }.into();
    store
        .append(
            "Ledger-l1",
            ExpectedVersion::NoStream,
            vec![NewEvent::encode("Ledger", &settled, Metadata::new()).expect("encode")],
        )
        .await
        .expect("append the ledger");
    store
}

/// Publishes `store`'s whole log to `broker` with both aggregates' routes.
async fn publish_routed<B: Broker>(store: Arc<InMemoryEventStore>, broker: B) {
    let publisher: Publisher<B> = Publisher::new(broker, "urn:aggregato:tests")
        .with_routes::<Payment>()
        .with_routes::<Ledger>();
    let mut runner = ProjectionRunner::new(store, InMemoryCheckpoints::new(), publisher)
        .with_retry(RetryPolicy::immediate(2));
    let progress = runner.catch_up().await.expect("publish");
    assert_eq!(progress.position, 4);
}

/// The subjects of the stream's messages, in order.
async fn subjects(
    stream: &aggregato::outbox::nats::async_nats::jetstream::stream::Stream,
) -> Vec<String> {
    let stored = stream.get_info().await.expect("stream info").state.messages;
    let mut subjects = Vec::new();
    for sequence in 1..=stored {
        let message = stream.get_raw_message(sequence).await.expect("a message");
        subjects.push(message.subject.to_string());
    }
    subjects
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(no_nats_url, ignore = "needs NATS: NATS_URL is not set")]
async fn nats_publishes_a_routed_event_under_the_prefix_and_its_route() {
    let Some(nats) = Nats::fresh("nats_publishes_a_routed_event").await else {
        return;
    };
    let stream = nats.create_stream(Duration::from_secs(120)).await;
    publish_routed(payment_log().await, nats.broker()).await;
    let prefix = &nats.prefix;
    assert_eq!(
        subjects(&stream).await,
        [
            format!("{prefix}.Payment.PaymentOpened"),
            format!("{prefix}.payments.settled"),
            format!("{prefix}.payments.refunded"),
            format!("{prefix}.Ledger.PaymentSettled"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(no_nats_url, ignore = "needs NATS: NATS_URL is not set")]
async fn a_nats_router_wins_over_the_route() {
    let Some(nats) = Nats::fresh("a_nats_router_wins_over_the_route").await else {
        return;
    };
    let stream = nats.create_stream(Duration::from_secs(120)).await;
    let prefix = nats.prefix.clone();
    let broker = nats.broker().with_router(move |message| {
        // The router sees the route and decides.
        let route = message.route.as_deref().unwrap_or("unrouted");
        format!("{prefix}.by-router.{route}")
    });
    publish_routed(payment_log().await, broker).await;
    let prefix = &nats.prefix;
    assert_eq!(
        subjects(&stream).await,
        [
            format!("{prefix}.by-router.unrouted"),
            format!("{prefix}.by-router.payments.settled"),
            format!("{prefix}.by-router.payments.refunded"),
            format!("{prefix}.by-router.unrouted"),
        ]
    );
}

/// `AMQP_URL`, or `None` after saying that `test` is skipped (failing in CI).
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

/// One test's exchanges (`<prefix>.Payment`, `<prefix>.Ledger`) and queues on RabbitMQ.
struct Rabbit {
    prefix: String,
    connection: Connection,
    channel: Channel,
    queues: Vec<String>,
}

impl Rabbit {
    async fn new(url: &str) -> Self {
        let connection = Connection::connect(url, ConnectionProperties::default())
            .await
            .unwrap_or_else(|error| panic!("AMQP_URL is set but RabbitMQ is unusable: {error}"));
        let channel = connection.create_channel().await.expect("a channel");
        Self {
            prefix: format!("aggregato_test_{}", uuid::Uuid::now_v7().simple()),
            connection,
            channel,
            queues: Vec::new(),
        }
    }

    /// A broker publishing to this test's exchanges, which it declares.
    async fn broker(&self, url: &str) -> RabbitMqBroker {
        let mut broker = RabbitMqBroker::connect(url)
            .await
            .expect("connect the broker")
            .with_exchange_prefix(self.prefix.clone());
        broker
            .declare_exchanges(["Payment", "Ledger"])
            .await
            .expect("declare the exchanges");
        broker
    }

    /// A queue bound to `aggregate_type`'s exchange by each of `keys`; it expires a minute
    /// after its last use, should the test not get to delete it.
    async fn queue(&mut self, name: &str, bindings: &[(&str, &str)]) -> String {
        let queue = format!("{}.{name}", self.prefix);
        let mut arguments = FieldTable::default();
        arguments.insert("x-expires".into(), AMQPValue::LongInt(60_000));
        self.channel
            .queue_declare(
                queue.as_str().into(),
                QueueDeclareOptions::default(),
                arguments,
            )
            .await
            .expect("declare the queue");
        for (aggregate_type, key) in bindings {
            let exchange = format!("{}.{aggregate_type}", self.prefix);
            self.channel
                .queue_bind(
                    queue.as_str().into(),
                    exchange.as_str().into(),
                    (*key).into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await
                .expect("bind the queue");
        }
        self.queues.push(queue.clone());
        queue
    }

    /// The routing keys of every message waiting in `queue`, taken off it, in order.
    async fn routing_keys(&self, queue: &str) -> Vec<String> {
        let mut keys = Vec::new();
        while let Some(message) = self
            .channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .expect("get a message")
        {
            keys.push(message.delivery.routing_key.to_string());
        }
        keys
    }

    async fn clean_up(self) {
        for queue in &self.queues {
            self.channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .expect("delete a queue");
        }
        for aggregate_type in ["Payment", "Ledger"] {
            let exchange = format!("{}.{aggregate_type}", self.prefix);
            self.channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await
                .expect("delete an exchange");
        }
        let _ = self.connection.close(200, "done".into()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_amqp_url, ignore = "needs RabbitMQ: AMQP_URL is not set")]
async fn rabbitmq_routes_a_routed_event_by_its_route() {
    let Some(url) = amqp_url("rabbitmq_routes_a_routed_event_by_its_route") else {
        return;
    };
    let mut rabbit = Rabbit::new(&url).await;
    let broker = rabbit.broker(&url).await;
    let everything = rabbit
        .queue("everything", &[("Payment", "#"), ("Ledger", "#")])
        .await;
    let payments = rabbit.queue("payments", &[("Payment", "payments.*")]).await;
    publish_routed(payment_log().await, broker).await;
    assert_eq!(
        rabbit.routing_keys(&everything).await,
        [
            "PaymentOpened",
            "payments.settled",
            "payments.refunded",
            "PaymentSettled"
        ]
    );
    assert_eq!(
        rabbit.routing_keys(&payments).await,
        ["payments.settled", "payments.refunded"],
        "a queue bound to the routes gets the routed events only"
    );
    rabbit.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_amqp_url, ignore = "needs RabbitMQ: AMQP_URL is not set")]
async fn a_rabbitmq_routing_key_function_wins_over_the_route() {
    let Some(url) = amqp_url("a_rabbitmq_routing_key_function_wins_over_the_route") else {
        return;
    };
    let mut rabbit = Rabbit::new(&url).await;
    let broker = rabbit.broker(&url).await.with_routing_key(|message| {
        let route = message.route.as_deref().unwrap_or("unrouted");
        format!("by-key.{route}")
    });
    let everything = rabbit
        .queue("everything", &[("Payment", "#"), ("Ledger", "#")])
        .await;
    publish_routed(payment_log().await, broker).await;
    assert_eq!(
        rabbit.routing_keys(&everything).await,
        [
            "by-key.unrouted",
            "by-key.payments.settled",
            "by-key.payments.refunded",
            "by-key.unrouted"
        ]
    );
    rabbit.clean_up().await;
}
