//! The outbox's Kafka broker and inbox consumer against the live Kafka-protocol broker named by
//! `KAFKA_BROKERS` (e.g. `127.0.0.1:9092`; `.ci/run` starts tansu there and sets it): a
//! publisher delivers the bank's events once each, in stream order per key, as CloudEvents; a
//! consumer behind the inbox (SQLite, and PostgreSQL when `DATABASE_URL` is set) has one effect
//! per event also when two producer sessions published every event; an unknown topic stops
//! the publisher; a stalled broker is unavailable, the checkpoint waits at the last
//! acknowledged event, and the retry after it leaves one effect per event. Each test creates
//! topics of its own (`aggregato_test.<uuid>.BankAccount`), deleted at its end. The stall test
//! runs a throwaway tansu of its own. Without `KAFKA_BROKERS` (or tansu) the tests say they
//! are skipped (and are counted as ignored when built without it); in CI they fail instead.

mod kafka_support;
mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aggregato::outbox::kafka::rdkafka::Message as _;
use aggregato::outbox::kafka::rdkafka::message::Headers as _;
use aggregato::outbox::kafka::{
    CONTENT_TYPE, CONTENT_TYPE_HEADER, KafkaBroker, MESSAGE_ID_HEADER, decode, message_id,
};
use aggregato::outbox::{
    Broker as _, OutgoingMessage, PostgresInbox, PublishError, Publisher, SqliteInbox,
};
use aggregato::projection::{
    CheckpointStore as _, InMemoryCheckpoints, ProjectionError, ProjectionKey, RunOutcome, Status,
};
use aggregato::{RetryPolicy, prelude::*};
use aggregato_examples::bank::*;
use kafka_support::{EFFECTS, Kafka, consume_all, in_ci, skipped, tansu};
use support::stores::{postgres_store, sqlite_store};
use uuid::Uuid;

type Store = Arc<InMemoryEventStore>;

/// Fails in CI without `KAFKA_BROKERS`: the Kafka tests would be skipped there.
#[test]
fn kafka_tests_are_not_skipped_in_ci() {
    assert!(
        !in_ci() || std::env::var_os("KAFKA_BROKERS").is_some_and(|brokers| !brokers.is_empty()),
        "CI is set but KAFKA_BROKERS is not: the Kafka tests would be skipped"
    );
}

/// How many accounts [`bank_events`] writes to.
const ACCOUNTS: usize = 50;

/// Appends events `from..to` of each account's history (event 0 opens it; the others
/// deposit), the accounts taking turns, so one stream's events are spread over the log.
async fn bank_events(store: &Store, from: usize, to: usize) {
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
async fn event_ids(store: &Store) -> Vec<Uuid> {
    store
        .read_all(0, usize::MAX)
        .await
        .expect("read the log")
        .into_iter()
        .map(|event| event.event_id)
        .collect()
}

/// A runner of a publisher to `broker`, batches of 100.
fn publisher(
    store: &Store,
    checkpoints: InMemoryCheckpoints,
    broker: KafkaBroker,
) -> ProjectionRunner<Store, InMemoryCheckpoints, Publisher<KafkaBroker>> {
    ProjectionRunner::new(
        Arc::clone(store),
        checkpoints,
        Publisher::new(broker, "urn:aggregato:tests"),
    )
    .with_name("kafka-outbox")
    .with_batch_size(100)
}

/// Publishes the whole log once, from a checkpoint of its own; the position reached.
async fn publish_all(store: &Store, broker: KafkaBroker) -> u64 {
    let mut runner =
        publisher(store, InMemoryCheckpoints::new(), broker).with_retry(RetryPolicy::immediate(2));
    let progress = runner.catch_up().await.expect("publish");
    assert!(progress.caught_up);
    progress.position
}

/// Where the publisher's checkpoint stands (0 before its first commit).
async fn checkpoint(checkpoints: &InMemoryCheckpoints, key: &ProjectionKey) -> u64 {
    checkpoints
        .state(key)
        .await
        .expect("read the checkpoint")
        .map_or(0, |state| state.position)
}

/// A message no consumer here decodes.
fn raw_message() -> OutgoingMessage {
    OutgoingMessage {
        id: Uuid::now_v7(),
        stream_id: "BankAccount-raw".to_owned(),
        aggregate_type: "BankAccount".to_owned(),
        event_type: "Raw".to_owned(),
        version: 1,
        position: 1,
        body: b"{}".to_vec(),
        route: None,
    }
}

/// An event's route names its topic under the prefix; a topic function wins over it, and
/// without either the topic is the aggregate type's. (Making a producer connects nothing.)
#[test]
fn a_route_names_the_topic_and_a_topic_function_wins() {
    let broker = KafkaBroker::new("127.0.0.1:1", "shop").expect("a producer");
    let mut message = raw_message();
    assert_eq!(broker.topic(&message), "shop.BankAccount");
    message.route = Some("payments.settled".into());
    assert_eq!(broker.topic(&message), "shop.payments.settled");
    let broker = broker
        .with_topics(|message| format!("custom.{}", message.route.as_deref().unwrap_or("none")));
    assert_eq!(broker.topic(&message), "custom.payments.settled");
}

/// Nothing listens on port 1: a delivery that times out is unavailable, which the publisher
/// retries, not a permanent failure.
#[tokio::test]
async fn an_unreachable_broker_is_unavailable_not_failed() {
    let mut config = KafkaBroker::config("127.0.0.1:1");
    config.set("message.timeout.ms", "500");
    let mut broker = KafkaBroker::from_config(config, "nowhere").expect("a producer");
    let started = Instant::now();
    let error = broker
        .publish(&[raw_message(), raw_message()])
        .await
        .expect_err("nothing listens there");
    assert!(
        matches!(error, PublishError::Unavailable(_)),
        "unavailable: {error:?}"
    );
    assert!(!error.is_permanent());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "within the delivery timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_kafka_brokers, ignore = "needs Kafka: KAFKA_BROKERS is not set")]
async fn the_publisher_delivers_every_event_once_in_stream_order() {
    let Some(mut kafka) = Kafka::fresh("the_publisher_delivers_every_event_once_in_stream_order")
    else {
        return;
    };
    let topic = kafka.create_topic(3).await;
    let store = Store::default();
    // 50 accounts, each opened and given 19 deposits: 1,000 events.
    bank_events(&store, 0, 20).await;
    let ids = event_ids(&store).await;
    assert_eq!(ids.len(), 1_000);
    assert_eq!(publish_all(&store, kafka.broker()).await, 1_000);

    let consumer = kafka.consumer(&topic);
    let mut received = HashSet::new();
    let mut versions: HashMap<String, u64> = HashMap::new();
    let mut partitions: HashMap<String, i32> = HashMap::new();
    for _ in 0..ids.len() {
        let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("a message within 30 s")
            .expect("a message");
        let cloud_event = decode(&message).expect("a CloudEvent");
        assert_eq!(message_id(&message), Some(cloud_event.id), "the header");
        let headers = message.headers().expect("headers");
        let content_type = headers
            .iter()
            .find(|header| header.key == CONTENT_TYPE_HEADER)
            .and_then(|header| header.value);
        assert_eq!(content_type, Some(CONTENT_TYPE.as_bytes()));
        assert!(
            headers.iter().any(|header| header.key == MESSAGE_ID_HEADER),
            "{MESSAGE_ID_HEADER}"
        );
        let key = std::str::from_utf8(message.key().expect("a key")).expect("UTF-8");
        assert_eq!(key, cloud_event.subject, "key = stream id");
        assert_eq!(cloud_event.source, "urn:aggregato:tests");
        assert_eq!(cloud_event.aggregatetype, "BankAccount");
        let partition = *partitions
            .entry(key.to_owned())
            .or_insert(message.partition());
        assert_eq!(partition, message.partition(), "{key}: one partition");
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
        assert!(received.insert(event.event_id), "{} twice", event.event_id);
    }
    assert_eq!(received, ids.iter().copied().collect(), "every event");
    assert_eq!(versions.len(), ACCOUNTS);
    assert!(versions.values().all(|&version| version == 20));
    let used: HashSet<i32> = partitions.values().copied().collect();
    assert!(used.len() > 1, "the keys spread over partitions: {used:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_kafka_brokers, ignore = "needs Kafka: KAFKA_BROKERS is not set")]
async fn the_inbox_has_one_effect_per_event_across_two_producer_sessions() {
    const TEST: &str = "the_inbox_has_one_effect_per_event_across_two_producer_sessions";
    let Some(mut kafka) = Kafka::fresh(TEST) else {
        return;
    };
    let topic = kafka.create_topic(2).await;
    let store = Store::default();
    bank_events(&store, 0, 4).await;
    let ids = event_ids(&store).await;
    let events = ids.len() as u64;
    // Two producer sessions publish every event (a publisher that lost its checkpoint, two
    // runners on a broken claim): the idempotent producer de-duplicates within one session
    // only, so the topic holds every event twice.
    assert_eq!(publish_all(&store, kafka.broker()).await, events);
    assert_eq!(publish_all(&store, kafka.broker()).await, events);

    let sqlite = sqlite_store().await;
    let pool = sqlite.store.pool().clone();
    sqlx::query(EFFECTS).execute(&pool).await.expect("effects");
    let inbox = SqliteInbox::new(pool.clone(), "kafka-test");
    let consumed = consume_all(&kafka, &topic, &inbox, events).await;
    assert_eq!((consumed.handled, consumed.duplicates), (events, events));
    let (count, distinct): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM kafka_effects")
            .fetch_one(&pool)
            .await
            .expect("count the effects");
    assert_eq!((count, distinct), (events as i64, events as i64));

    match postgres_store().await {
        None => skipped(TEST, "DATABASE_URL is not set (the PostgreSQL inbox)"),
        Some(postgres) => {
            let pool = postgres.store.pool().clone();
            sqlx::query(EFFECTS).execute(&pool).await.expect("effects");
            let inbox = PostgresInbox::new(pool.clone(), "kafka-test");
            let consumed = consume_all(&kafka, &topic, &inbox, events).await;
            assert_eq!((consumed.handled, consumed.duplicates), (events, events));
            let (count, distinct): (i64, i64) =
                sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM kafka_effects")
                    .fetch_one(&pool)
                    .await
                    .expect("count the effects");
            assert_eq!((count, distinct), (events as i64, events as i64));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_kafka_brokers, ignore = "needs Kafka: KAFKA_BROKERS is not set")]
async fn an_unknown_topic_stops_the_publisher_naming_it() {
    let Some(kafka) = Kafka::fresh("an_unknown_topic_stops_the_publisher_naming_it") else {
        return;
    };
    // No topic is created; librdkafka gives up waiting for it after 2 s.
    let broker = kafka.broker_with(&[("topic.metadata.propagation.max.ms", "2000")]);
    let store = Store::default();
    bank_events(&store, 0, 2).await;
    let checkpoints = InMemoryCheckpoints::new();
    let mut runner =
        publisher(&store, checkpoints.clone(), broker).with_retry(RetryPolicy::immediate(3));
    let error = runner
        .catch_up()
        .await
        .expect_err("an unknown topic stops the publisher");
    let ProjectionError::Failed {
        position,
        attempts,
        error,
        ..
    } = &error
    else {
        panic!("expected the publisher to fail, got {error:?}");
    };
    let topic = kafka.topic();
    assert!(
        error.contains("unroutable") && error.contains(&topic),
        "the error names `{topic}`: {error}"
    );
    assert_eq!((*position, *attempts), (1, 1), "permanent: not retried");
    let state = checkpoints
        .state(runner.key())
        .await
        .expect("the state")
        .expect("a checkpoint");
    assert_eq!((state.status, state.position), (Status::Failed, 0));
    assert!(state.failure.is_some());
}

/// How long the broker stalls while the publisher has events to publish.
const OUTAGE: Duration = Duration::from_secs(30);

/// Waits until the checkpoint reaches `position`.
async fn wait_for(checkpoints: &InMemoryCheckpoints, key: &ProjectionKey, position: u64) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while checkpoint(checkpoints, key).await < position {
        assert!(
            Instant::now() < deadline,
            "the publisher did not reach {position}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_broker_never_moves_the_checkpoint_past_the_last_ack() {
    const TEST: &str = "a_stalled_broker_never_moves_the_checkpoint_past_the_last_ack";
    let Some(binary) = tansu::binary() else {
        skipped(TEST, "tansu is not installed (.ci/run installs it)");
        return;
    };
    let server = tansu::LocalTansu::start(binary).await;
    let mut kafka = Kafka::on(server.brokers());
    let topic = kafka.create_topic(2).await;
    // Deliveries time out after 3 s: each attempt during the stall is unavailable.
    let broker = kafka.broker_with(&[("message.timeout.ms", "3000")]);
    let store = Store::default();
    bank_events(&store, 0, 10).await;
    let checkpoints = InMemoryCheckpoints::new();
    let mut runner = publisher(&store, checkpoints.clone(), broker)
        .with_retry(Publisher::<KafkaBroker>::retry_policy());
    let key = runner.key().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        let outcome = runner
            .run(async {
                let _ = stopped.await;
            })
            .await;
        (runner, outcome)
    });
    wait_for(&checkpoints, &key, 500).await;

    // Stalled with 500 more events to publish: the checkpoint stays at the last ack.
    server.pause();
    bank_events(&store, 10, 20).await;
    let until = Instant::now() + OUTAGE;
    while Instant::now() < until {
        assert_eq!(
            checkpoint(&checkpoints, &key).await,
            500,
            "moved without acks"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.resume();
    wait_for(&checkpoints, &key, 1_000).await;
    let _ = stop.send(());
    let (runner, outcome) = running.await.expect("the runner task");
    assert_eq!(outcome.expect("run"), RunOutcome::Shutdown);
    drop(runner);

    // What the stalled attempts handed over may have been stored as well as its retry.
    let sqlite = sqlite_store().await;
    let pool = sqlite.store.pool().clone();
    sqlx::query(EFFECTS).execute(&pool).await.expect("effects");
    let inbox = SqliteInbox::new(pool.clone(), "kafka-test");
    let consumed = consume_all(&kafka, &topic, &inbox, 1_000).await;
    assert_eq!(consumed.handled, 1_000, "{consumed:?}");
    let effected: HashSet<String> = sqlx::query_scalar("SELECT event_id FROM kafka_effects")
        .fetch_all(&pool)
        .await
        .expect("read the effects")
        .into_iter()
        .collect();
    let ids: HashSet<String> = event_ids(&store)
        .await
        .iter()
        .map(Uuid::to_string)
        .collect();
    assert_eq!(effected, ids, "one effect per event, none lost");
    eprintln!(
        "{TEST}: {} messages consumed for 1000 events ({} duplicates dropped by the inbox)",
        consumed.handled + consumed.duplicates,
        consumed.duplicates
    );
    drop(kafka);
    drop(server);
}
