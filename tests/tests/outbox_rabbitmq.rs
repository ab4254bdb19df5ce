//! The outbox's RabbitMQ broker and inbox consumer against the live RabbitMQ named by
//! `AMQP_URL` (e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`; `.ci/run` starts one and sets
//! it): a publisher delivers the bank's events in stream order, an unroutable message stops
//! it, and a consumer behind the inbox (SQLite, and PostgreSQL when `DATABASE_URL` is set) has
//! one effect per event however often the queue delivers it. Each test declares exchanges and
//! queues of its own (`aggregato_test_<uuid>`), deleted at its end. Without `AMQP_URL` the
//! tests say they are skipped (and are counted as ignored when built without it); in CI they
//! fail instead.

mod support;

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use aggregato::outbox::rabbitmq::lapin::options::{
    BasicConsumeOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use aggregato::outbox::rabbitmq::lapin::types::{AMQPValue, FieldTable};
use aggregato::outbox::rabbitmq::lapin::{
    Channel, Connection, ConnectionProperties, Consumer, ExchangeKind,
};
use aggregato::outbox::rabbitmq::{
    CONTENT_TYPE, DeliveryHandler, DeliveryInbox, DeliveryOutcome, RabbitMqBroker, consume,
    decode_delivery,
};
use aggregato::outbox::{CloudEvent, PostgresInbox, Publisher, SqliteInbox};
use aggregato::projection::{
    BoxError, CheckpointStore as _, InMemoryCheckpoints, ProjectionError, Status,
};
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

/// The effect under test: one row per handling in `effects`, so a second effect of one event
/// shows as a count of 2. Fails the first attempt at each id in `fail_once`, after writing its
/// row (which the failure must roll back).
#[derive(Default)]
struct CountEffects {
    fail_once: HashSet<Uuid>,
}

impl CountEffects {
    fn should_fail(&mut self, event: &CloudEvent) -> bool {
        self.fail_once.remove(&event.id)
    }
}

impl DeliveryHandler<sqlx::PgConnection> for CountEffects {
    async fn handle(
        &mut self,
        event: &CloudEvent,
        connection: &mut sqlx::PgConnection,
    ) -> Result<(), BoxError> {
        sqlx::query("INSERT INTO effects (event_id) VALUES ($1)")
            .bind(event.id)
            .execute(&mut *connection)
            .await?;
        if self.should_fail(event) {
            return Err(format!("the effect of {} failed", event.id).into());
        }
        Ok(())
    }
}

impl DeliveryHandler<sqlx::SqliteConnection> for CountEffects {
    async fn handle(
        &mut self,
        event: &CloudEvent,
        connection: &mut sqlx::SqliteConnection,
    ) -> Result<(), BoxError> {
        sqlx::query("INSERT INTO effects (event_id) VALUES ($1)")
            .bind(event.id)
            .execute(&mut *connection)
            .await?;
        if self.should_fail(event) {
            return Err(format!("the effect of {} failed", event.id).into());
        }
        Ok(())
    }
}

/// What the consumer did with each delivery.
#[derive(Debug, Default)]
struct Tally {
    handled: Vec<Uuid>,
    duplicates: usize,
    requeued: Vec<Uuid>,
}

/// Consumes `queue` through `inbox` until `expected_acks` deliveries were acked (handled or
/// duplicates).
async fn consume_through<I>(
    rabbit: &Rabbit,
    queue: &str,
    inbox: &I,
    handler: &mut CountEffects,
    expected_acks: usize,
) -> Tally
where
    I: DeliveryInbox,
    CountEffects: DeliveryHandler<I::Connection>,
{
    let mut consumer = rabbit.consumer(queue).await;
    let mut tally = Tally::default();
    let consumed = consume(&mut consumer, inbox, handler, |outcome| {
        match outcome {
            DeliveryOutcome::Handled { message_id } => tally.handled.push(*message_id),
            DeliveryOutcome::Duplicate { .. } => tally.duplicates += 1,
            DeliveryOutcome::Requeued { message_id, .. } => tally.requeued.push(*message_id),
            other => panic!("unexpected outcome {other:?}"),
        }
        if tally.handled.len() + tally.duplicates == expected_acks {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    tokio::time::timeout(Duration::from_secs(60), consumed)
        .await
        .expect("consumed within 60 s")
        .expect("the consumer ran");
    tally
}

/// `(rows, distinct event ids, most rows of one id)` of the effects table.
type EffectCounts = (i64, i64, i64);

const EFFECT_COUNTS: &str = "SELECT COALESCE(SUM(n), 0), COUNT(*), COALESCE(MAX(n), 0) \
     FROM (SELECT COUNT(*) AS n FROM effects GROUP BY event_id) AS per_event";

/// The counts a backend reports: the effects table's, and the consumer's inbox records.
type Counts = (EffectCounts, i64);

/// The log published twice (a second publisher from checkpoint 0, as after a crash between
/// the broker's ack and the checkpoint): the queue holds both copies, the inbox lets one
/// through per event.
async fn one_effect_per_event_despite_redelivery<I>(
    rabbit: &mut Rabbit,
    inbox: &I,
    counts: impl AsyncFn() -> Counts,
) where
    I: DeliveryInbox,
    CountEffects: DeliveryHandler<I::Connection>,
{
    let queue = rabbit.bound_queue("redelivery").await;
    let store = Store::default();
    let ids = history(&store, 20, 4).await;
    assert_eq!(ids.len(), 100);
    publish_all(&store, rabbit.broker().await).await;
    publish_all(&store, rabbit.broker().await).await;
    assert_eq!(
        rabbit.ready(&queue).await,
        200,
        "a classic queue keeps both copies"
    );
    let tally = consume_through(rabbit, &queue, inbox, &mut CountEffects::default(), 200).await;
    assert_eq!(tally.handled.len(), 100);
    assert_eq!(tally.duplicates, 100);
    assert!(tally.requeued.is_empty());
    let handled: HashSet<Uuid> = tally.handled.into_iter().collect();
    assert_eq!(handled, ids.iter().copied().collect::<HashSet<_>>());
    assert_eq!(
        counts().await,
        ((100, 100, 1), 100),
        "one effect and one inbox record per event"
    );
    assert_eq!(rabbit.ready(&queue).await, 0, "every copy was acked");
}

/// One event's first attempt writes its effect and then fails: nothing of it stays (no
/// effect, no inbox record), the message is requeued, and the redelivery is handled as new.
async fn a_failed_attempt_writes_nothing<I>(
    rabbit: &mut Rabbit,
    inbox: &I,
    counts: impl AsyncFn() -> Counts,
) where
    I: DeliveryInbox,
    CountEffects: DeliveryHandler<I::Connection>,
{
    let queue = rabbit.bound_queue("failing").await;
    let store = Store::default();
    let ids = history(&store, 5, 3).await;
    assert_eq!(ids.len(), 20);
    publish_all(&store, rabbit.broker().await).await;
    let failing = ids[7];
    let mut handler = CountEffects {
        fail_once: HashSet::from([failing]),
    };
    let tally = consume_through(rabbit, &queue, inbox, &mut handler, 20).await;
    assert_eq!(tally.requeued, [failing], "the failed attempt was requeued");
    assert_eq!(
        tally.duplicates, 0,
        "the redelivery was not taken for a duplicate: the failed attempt left no record"
    );
    let handled: HashSet<Uuid> = tally.handled.into_iter().collect();
    assert_eq!(handled, ids.iter().copied().collect::<HashSet<_>>());
    assert_eq!(counts().await, ((20, 20, 1), 20));
}

const CONSUMER: &str = "rabbitmq-tests";

/// A SQLite inbox in a temporary directory, with the effects table, and its counts.
macro_rules! with_sqlite_inbox {
    (|$inbox:ident, $counts:ident| $check:expr) => {{
        let store = support::stores::sqlite_store().await;
        let pool = store.store.pool().clone();
        sqlx::query("CREATE TABLE effects (event_id BLOB NOT NULL)")
            .execute(&pool)
            .await
            .expect("the effects table");
        let $inbox = SqliteInbox::new(pool.clone(), CONSUMER);
        $inbox.migrate().await.expect("the inbox table");
        let $counts = async || -> Counts {
            let effects: EffectCounts = sqlx::query_as(EFFECT_COUNTS)
                .fetch_one(&pool)
                .await
                .expect("count the effects");
            let records: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM aggregato_inbox WHERE consumer = $1")
                    .bind(CONSUMER)
                    .fetch_one(&pool)
                    .await
                    .expect("count the records");
            (effects, records)
        };
        $check;
        drop(store);
    }};
}

/// A PostgreSQL inbox in a schema of its own, with the effects table, and its counts; skips
/// (and fails in CI) without `DATABASE_URL`.
macro_rules! with_postgres_inbox {
    ($test:literal, |$inbox:ident, $counts:ident| $check:expr) => {{
        let Some(store) = support::stores::postgres_store().await else {
            assert!(
                !in_ci(),
                "{}: DATABASE_URL is not set, and CI is: the PostgreSQL tests must run in CI",
                $test
            );
            eprintln!("skipped {}: DATABASE_URL is not set", $test);
            return;
        };
        let pool = store.store.pool().clone();
        sqlx::query("CREATE TABLE effects (event_id uuid NOT NULL)")
            .execute(&pool)
            .await
            .expect("the effects table");
        let $inbox = PostgresInbox::new(pool.clone(), CONSUMER);
        $inbox.migrate().await.expect("the inbox table");
        let $counts = async || -> Counts {
            let effects: (i64, i64, i64) = sqlx::query_as(
                "SELECT COALESCE(SUM(n), 0)::bigint, COUNT(*), COALESCE(MAX(n), 0) \
                 FROM (SELECT COUNT(*) AS n FROM effects GROUP BY event_id) AS per_event",
            )
            .fetch_one(&pool)
            .await
            .expect("count the effects");
            let records: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM aggregato_inbox WHERE consumer = $1")
                    .bind(CONSUMER)
                    .fetch_one(&pool)
                    .await
                    .expect("count the records");
            (effects, records)
        };
        $check;
        pool.close().await;
        drop(store);
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_amqp_url, ignore = "needs RabbitMQ: AMQP_URL is not set")]
async fn a_redelivered_event_has_one_effect_through_the_sqlite_inbox() {
    let Some(url) = amqp_url("a_redelivered_event_has_one_effect_through_the_sqlite_inbox") else {
        return;
    };
    let mut rabbit = Rabbit::new(url).await;
    with_sqlite_inbox!(|inbox, counts| {
        one_effect_per_event_despite_redelivery(&mut rabbit, &inbox, counts).await
    });
    rabbit.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(no_amqp_url, no_database_url),
    ignore = "needs RabbitMQ and PostgreSQL: AMQP_URL or DATABASE_URL is not set"
)]
async fn a_redelivered_event_has_one_effect_through_the_postgres_inbox() {
    let test = "a_redelivered_event_has_one_effect_through_the_postgres_inbox";
    let Some(url) = amqp_url(test) else {
        return;
    };
    let mut rabbit = Rabbit::new(url).await;
    with_postgres_inbox!(
        "a_redelivered_event_has_one_effect_through_the_postgres_inbox",
        |inbox, counts| one_effect_per_event_despite_redelivery(&mut rabbit, &inbox, counts).await
    );
    rabbit.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_amqp_url, ignore = "needs RabbitMQ: AMQP_URL is not set")]
async fn a_failed_effect_leaves_no_sqlite_inbox_record() {
    let Some(url) = amqp_url("a_failed_effect_leaves_no_sqlite_inbox_record") else {
        return;
    };
    let mut rabbit = Rabbit::new(url).await;
    with_sqlite_inbox!(|inbox, counts| {
        a_failed_attempt_writes_nothing(&mut rabbit, &inbox, counts).await
    });
    rabbit.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    any(no_amqp_url, no_database_url),
    ignore = "needs RabbitMQ and PostgreSQL: AMQP_URL or DATABASE_URL is not set"
)]
async fn a_failed_effect_leaves_no_postgres_inbox_record() {
    let Some(url) = amqp_url("a_failed_effect_leaves_no_postgres_inbox_record") else {
        return;
    };
    let mut rabbit = Rabbit::new(url).await;
    with_postgres_inbox!(
        "a_failed_effect_leaves_no_postgres_inbox_record",
        |inbox, counts| a_failed_attempt_writes_nothing(&mut rabbit, &inbox, counts).await
    );
    rabbit.clean_up().await;
}
