//! Outbox publish throughput: aggregato's `Publisher` (run by `ProjectionRunner::catch_up`,
//! batches of 1,000, in-memory checkpoints) against the raw client publishing the same
//! messages with the same acknowledgement settings, 10,000 events, on the brokers named by
//! `NATS_URL`, `AMQP_URL` and `KAFKA_BROKERS` (each skipped, with a line saying so, without
//! its variable).
//!
//! - NATS JetStream: ours (`NatsBroker`) vs raw async-nats: each message with `Nats-Msg-Id`
//!   and a content type, a batch of 1,000 sent, then its acks awaited.
//! - RabbitMQ: ours (`RabbitMqBroker`) vs raw lapin on a channel in confirm mode: each
//!   message `mandatory`, persistent, with its message id; a batch of 1,000 published, then its
//!   confirms awaited (a return would fail the run).
//! - Kafka: ours (`KafkaBroker`) vs raw rdkafka `FutureProducer` with the same producer
//!   settings (`KafkaBroker::config`: idempotence, `acks=all`): each message keyed by its
//!   stream id with the same two headers, a batch of 1,000 handed to librdkafka, then its
//!   delivery reports awaited. A topic of 3 partitions per sample.
//!
//! The raw side publishes the CloudEvents bodies ours produced, built before its timed part:
//! it measures the broker and its client alone. Every sample publishes to a fresh stream (or
//! exchange and queue), made and removed in the untimed setup.

mod common;

use std::sync::Arc;
use std::time::Duration;

use aggregato::outbox::kafka::rdkafka::admin::{AdminClient, AdminOptions};
use aggregato::outbox::kafka::rdkafka::client::DefaultClientContext;
use aggregato::outbox::kafka::rdkafka::message::{Header, OwnedHeaders};
use aggregato::outbox::kafka::rdkafka::producer::{FutureProducer, FutureRecord};
use aggregato::outbox::kafka::{CONTENT_TYPE, CONTENT_TYPE_HEADER, KafkaBroker, MESSAGE_ID_HEADER};
use aggregato::outbox::nats::{NatsBroker, async_nats};
use aggregato::outbox::rabbitmq::{RabbitMqBroker, lapin};
use aggregato::outbox::{CloudEvent, Publisher};
use aggregato::projection::InMemoryCheckpoints;
use aggregato::{EventStore as _, ExpectedVersion, InMemoryEventStore, ProjectionRunner};
use common::ours::encoded_events;
use common::workload::{Op, Workload};
use common::{VerifyOnDrop, multi_thread_runtime};
use divan::Bencher;
use divan::counter::ItemsCount;
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties, ExchangeKind};
use uuid::Uuid;

const WORKLOAD: Workload = Workload::new(100, 9_900);
const BATCH: usize = 1_000;

fn events() -> usize {
    WORKLOAD.total_commands()
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

fn main() {
    for (variable, broker) in [
        ("NATS_URL", "NATS"),
        ("AMQP_URL", "RabbitMQ"),
        ("KAFKA_BROKERS", "Kafka"),
    ] {
        if env(variable).is_none() {
            println!("outbox bench: {broker} skipped, {variable} is not set");
        }
    }
    divan::main();
}

/// The workload's events in a fresh in-memory store.
async fn seeded_store() -> Arc<InMemoryEventStore> {
    let store = Arc::new(InMemoryEventStore::new());
    let ids = WORKLOAD.account_ids();
    let mut per_account: Vec<Vec<Op>> = vec![vec![Op::Open]; ids.len()];
    for (account, op) in WORKLOAD.ops().skip(ids.len()) {
        per_account[account].push(op);
    }
    for (id, ops) in ids.iter().zip(per_account) {
        store
            .append(
                &format!("Account-{id}"),
                ExpectedVersion::NoStream,
                encoded_events(ops, id),
            )
            .await
            .expect("seed");
    }
    store
}

/// The messages ours publishes, for the raw side: (id, event type, CloudEvents body), in
/// position order.
async fn bodies(store: &Arc<InMemoryEventStore>) -> Vec<(Uuid, String, Vec<u8>)> {
    keyed_bodies(store)
        .await
        .into_iter()
        .map(|(id, event_type, _, body)| (id, event_type, body))
        .collect()
}

/// [`bodies`] with each event's stream id: (id, event type, stream id, body).
async fn keyed_bodies(store: &Arc<InMemoryEventStore>) -> Vec<(Uuid, String, String, Vec<u8>)> {
    let mut bodies = Vec::with_capacity(events());
    for event in store.read_all(0, events() + 1).await.expect("read") {
        let payload = aggregato::event::Payload::from(&event.payload);
        let envelope = event.clone().with_payload(());
        let body = CloudEvent::new(&envelope, &payload, "urn:bench")
            .and_then(|cloud_event| cloud_event.to_vec())
            .expect("body");
        bodies.push((
            event.event_id,
            event.event_type.clone(),
            event.stream_id.clone(),
            body,
        ));
    }
    bodies
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", Uuid::now_v7().simple())
}

// ---- NATS ----

async fn nats_context() -> async_nats::jetstream::Context {
    let url = env("NATS_URL").expect("NATS_URL");
    let client = async_nats::connect(url).await.expect("connect to NATS");
    async_nats::jetstream::new(client)
}

/// Removes a sample's stream (after the timed part).
fn delete_stream(
    (runtime, context, stream): (
        tokio::runtime::Runtime,
        async_nats::jetstream::Context,
        String,
    ),
) {
    runtime.block_on(async {
        context
            .delete_stream(&stream)
            .await
            .expect("delete the stream");
    });
}

/// A fresh stream on `<prefix>.>`; its name.
async fn nats_stream(context: &async_nats::jetstream::Context, prefix: &str) -> String {
    let name = prefix.to_uppercase();
    context
        .create_stream(async_nats::jetstream::stream::Config {
            name: name.clone(),
            subjects: vec![format!("{prefix}.>")],
            ..Default::default()
        })
        .await
        .expect("create a stream");
    name
}

#[divan::bench_group(sample_count = 5, sample_size = 1)]
mod nats {
    use super::*;

    #[divan::bench]
    fn ours(bencher: Bencher) {
        if env("NATS_URL").is_none() {
            return;
        }
        bencher
            .counter(ItemsCount::new(events()))
            .with_inputs(|| {
                let runtime = multi_thread_runtime();
                let (store, context, prefix, stream) = runtime.block_on(async {
                    let context = nats_context().await;
                    let prefix = unique("bench_ours");
                    let stream = nats_stream(&context, &prefix).await;
                    (seeded_store().await, context, prefix, stream)
                });
                let broker = NatsBroker::new(context.clone(), prefix);
                let runner = ProjectionRunner::new(
                    store,
                    InMemoryCheckpoints::new(),
                    Publisher::new(broker, "urn:bench"),
                )
                .with_batch_size(BATCH)
                .with_retry(Publisher::<NatsBroker>::retry_policy());
                (runtime, runner, context, stream)
            })
            .bench_local_values(|(runtime, mut runner, context, stream)| {
                let progress = runtime.block_on(runner.catch_up()).expect("published");
                assert_eq!(progress.handled as usize, events());
                VerifyOnDrop::new((runtime, context, stream), delete_stream)
            });
    }

    #[divan::bench]
    fn raw(bencher: Bencher) {
        if env("NATS_URL").is_none() {
            return;
        }
        bencher
            .counter(ItemsCount::new(events()))
            .with_inputs(|| {
                let runtime = multi_thread_runtime();
                let (bodies, context, prefix, stream) = runtime.block_on(async {
                    let context = nats_context().await;
                    let prefix = unique("bench_raw");
                    let stream = nats_stream(&context, &prefix).await;
                    (bodies(&seeded_store().await).await, context, prefix, stream)
                });
                (runtime, bodies, context, prefix, stream)
            })
            .bench_local_values(|(runtime, bodies, context, prefix, stream)| {
                runtime.block_on(async {
                    for batch in bodies.chunks(BATCH) {
                        let mut acks = Vec::with_capacity(batch.len());
                        for (id, event_type, body) in batch {
                            let publish = async_nats::jetstream::message::PublishMessage::build()
                                .payload(body.clone().into())
                                .message_id(id.to_string())
                                .header(
                                    "Content-Type",
                                    "application/cloudevents+json; charset=utf-8",
                                );
                            let ack = context
                                .send_publish(format!("{prefix}.Account.{event_type}"), publish)
                                .await
                                .expect("publish");
                            acks.push(ack);
                        }
                        for ack in acks {
                            ack.await.expect("ack");
                        }
                    }
                });
                VerifyOnDrop::new((runtime, context, stream), delete_stream)
            });
    }
}

// ---- RabbitMQ ----

/// A fresh topic exchange with a bound queue that takes everything; (exchange, queue).
async fn rabbit_topology(connection: &Connection, prefix: &str) -> (String, String) {
    let channel = connection.create_channel().await.expect("channel");
    let exchange = format!("{prefix}.Account");
    let queue = format!("{prefix}.all");
    channel
        .exchange_declare(
            exchange.as_str().into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("exchange");
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("queue");
    channel
        .queue_bind(
            queue.as_str().into(),
            exchange.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("bind");
    (exchange, queue)
}

/// Removes a sample's exchange and queue (after the timed part: divan drops the outputs
/// outside it).
fn rabbit_cleanup(
    (runtime, connection, exchange, queue): (tokio::runtime::Runtime, Connection, String, String),
) {
    runtime.block_on(rabbit_remove(&connection, &exchange, &queue));
}

async fn rabbit_remove(connection: &Connection, exchange: &str, queue: &str) {
    let channel = connection.create_channel().await.expect("channel");
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .expect("delete the queue");
    channel
        .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
        .await
        .expect("delete the exchange");
}

async fn rabbit_connection() -> Connection {
    let url = env("AMQP_URL").expect("AMQP_URL");
    Connection::connect(&url, ConnectionProperties::default())
        .await
        .expect("connect to RabbitMQ")
}

#[divan::bench_group(sample_count = 5, sample_size = 1)]
mod rabbitmq {
    use super::*;

    #[divan::bench]
    fn ours(bencher: Bencher) {
        if env("AMQP_URL").is_none() {
            return;
        }
        bencher
            .counter(ItemsCount::new(events()))
            .with_inputs(|| {
                let runtime = multi_thread_runtime();
                let prefix = unique("bench_ours");
                let (store, connection, exchange, queue, broker) = runtime.block_on(async {
                    let connection = rabbit_connection().await;
                    let (exchange, queue) = rabbit_topology(&connection, &prefix).await;
                    let broker = RabbitMqBroker::connect(env("AMQP_URL").expect("AMQP_URL"))
                        .await
                        .expect("broker")
                        .with_exchange_prefix(prefix.clone())
                        .with_confirm_timeout(Duration::from_secs(60));
                    (seeded_store().await, connection, exchange, queue, broker)
                });
                let runner = ProjectionRunner::new(
                    store,
                    InMemoryCheckpoints::new(),
                    Publisher::new(broker, "urn:bench"),
                )
                .with_batch_size(BATCH)
                .with_retry(Publisher::<RabbitMqBroker>::retry_policy());
                (runtime, runner, connection, exchange, queue)
            })
            .bench_local_values(|(runtime, mut runner, connection, exchange, queue)| {
                let progress = runtime.block_on(runner.catch_up()).expect("published");
                assert_eq!(progress.handled as usize, events());
                VerifyOnDrop::new((runtime, connection, exchange, queue), rabbit_cleanup)
            });
    }

    #[divan::bench]
    fn raw(bencher: Bencher) {
        if env("AMQP_URL").is_none() {
            return;
        }
        bencher
            .counter(ItemsCount::new(events()))
            .with_inputs(|| {
                let runtime = multi_thread_runtime();
                let prefix = unique("bench_raw");
                let (bodies, connection, exchange, queue, channel) = runtime.block_on(async {
                    let connection = rabbit_connection().await;
                    let (exchange, queue) = rabbit_topology(&connection, &prefix).await;
                    let channel = connection.create_channel().await.expect("channel");
                    channel
                        .confirm_select(ConfirmSelectOptions::default())
                        .await
                        .expect("confirm mode");
                    (
                        bodies(&seeded_store().await).await,
                        connection,
                        exchange,
                        queue,
                        channel,
                    )
                });
                (runtime, bodies, connection, exchange, queue, channel)
            })
            .bench_local_values(|(runtime, bodies, connection, exchange, queue, channel)| {
                runtime.block_on(async {
                    for batch in bodies.chunks(BATCH) {
                        let mut confirms = Vec::with_capacity(batch.len());
                        for (id, event_type, body) in batch {
                            let properties = BasicProperties::default()
                                .with_message_id(id.to_string().into())
                                .with_content_type("application/cloudevents+json".into())
                                .with_delivery_mode(2)
                                .with_type(event_type.as_str().into());
                            let confirm = channel
                                .basic_publish(
                                    exchange.as_str().into(),
                                    event_type.as_str().into(),
                                    BasicPublishOptions {
                                        mandatory: true,
                                        immediate: false,
                                    },
                                    body,
                                    properties,
                                )
                                .await
                                .expect("publish");
                            confirms.push(confirm);
                        }
                        for confirm in confirms {
                            let confirmation = confirm.await.expect("confirm");
                            assert!(confirmation.is_ack(), "acknowledged");
                            assert!(confirmation.take_message().is_none(), "routed");
                        }
                    }
                });
                VerifyOnDrop::new((runtime, connection, exchange, queue), rabbit_cleanup)
            });
    }
}

// ---- Kafka ----

/// Partitions of each sample's topic.
const PARTITIONS: i32 = 3;

fn kafka_brokers() -> String {
    env("KAFKA_BROKERS").expect("KAFKA_BROKERS")
}

/// A fresh topic `<prefix>.Account` (ours' default name for the workload's aggregate type).
async fn kafka_topic(prefix: &str) -> String {
    let broker = KafkaBroker::new(&kafka_brokers(), prefix).expect("a producer");
    let topic = broker.topic_for("Account");
    broker
        .create_topics([&topic], PARTITIONS, 1)
        .await
        .expect("create the topic");
    topic
}

/// Removes a sample's topic (after the timed part).
fn kafka_cleanup((runtime, topic): (tokio::runtime::Runtime, String)) {
    runtime.block_on(async {
        let admin: AdminClient<DefaultClientContext> = KafkaBroker::config(&kafka_brokers())
            .create()
            .expect("an admin client");
        admin
            .delete_topics(&[topic.as_str()], &AdminOptions::new())
            .await
            .expect("delete the topic");
    });
}

#[divan::bench_group(sample_count = 5, sample_size = 1)]
mod kafka {
    use super::*;

    #[divan::bench]
    fn ours(bencher: Bencher) {
        if env("KAFKA_BROKERS").is_none() {
            return;
        }
        bencher
            .counter(ItemsCount::new(events()))
            .with_inputs(|| {
                let runtime = multi_thread_runtime();
                let prefix = unique("bench_ours");
                let (store, topic) =
                    runtime.block_on(async { (seeded_store().await, kafka_topic(&prefix).await) });
                let broker = KafkaBroker::new(&kafka_brokers(), prefix).expect("a producer");
                let runner = ProjectionRunner::new(
                    store,
                    InMemoryCheckpoints::new(),
                    Publisher::new(broker, "urn:bench"),
                )
                .with_batch_size(BATCH)
                .with_retry(Publisher::<KafkaBroker>::retry_policy());
                (runtime, runner, topic)
            })
            .bench_local_values(|(runtime, mut runner, topic)| {
                let progress = runtime.block_on(runner.catch_up()).expect("published");
                assert_eq!(progress.handled as usize, events());
                VerifyOnDrop::new((runtime, topic), kafka_cleanup)
            });
    }

    #[divan::bench]
    fn raw(bencher: Bencher) {
        if env("KAFKA_BROKERS").is_none() {
            return;
        }
        bencher
            .counter(ItemsCount::new(events()))
            .with_inputs(|| {
                let runtime = multi_thread_runtime();
                let prefix = unique("bench_raw");
                let (bodies, topic) = runtime.block_on(async {
                    (
                        keyed_bodies(&seeded_store().await).await,
                        kafka_topic(&prefix).await,
                    )
                });
                // The same settings as ours: idempotence, acks=all.
                let producer: FutureProducer = KafkaBroker::config(&kafka_brokers())
                    .create()
                    .expect("a producer");
                (runtime, bodies, producer, topic)
            })
            .bench_local_values(|(runtime, bodies, producer, topic)| {
                runtime.block_on(async {
                    for batch in bodies.chunks(BATCH) {
                        let mut deliveries = Vec::with_capacity(batch.len());
                        for (id, _, stream_id, body) in batch {
                            let id = id.to_string();
                            let headers = OwnedHeaders::new_with_capacity(2)
                                .insert(Header {
                                    key: CONTENT_TYPE_HEADER,
                                    value: Some(CONTENT_TYPE),
                                })
                                .insert(Header {
                                    key: MESSAGE_ID_HEADER,
                                    value: Some(id.as_str()),
                                });
                            let record = FutureRecord::to(&topic)
                                .key(stream_id.as_str())
                                .payload(body.as_slice())
                                .headers(headers);
                            let delivery = producer
                                .send_result(record)
                                .map_err(|(error, _)| error)
                                .expect("enqueue");
                            deliveries.push(delivery);
                        }
                        for delivery in deliveries {
                            delivery
                                .await
                                .expect("a delivery report")
                                .map_err(|(error, _)| error)
                                .expect("delivered");
                        }
                    }
                });
                VerifyOnDrop::new((runtime, topic), kafka_cleanup)
            });
    }
}
