//! The consumer behind the inbox: however often the queue delivers an event, it has one
//! effect, and a failed attempt leaves nothing behind.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::time::Duration;

use aggregato::outbox::rabbitmq::{
    DeliveryHandler, DeliveryInbox, DeliveryOutcome, consume, handle_delivery,
};
use aggregato::outbox::{CloudEvent, PostgresInbox, SqliteInbox};
use aggregato::projection::BoxError;
use uuid::Uuid;

use super::{Rabbit, Store, amqp_url, history, in_ci, publish_all, support};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_amqp_url, ignore = "needs RabbitMQ: AMQP_URL is not set")]
async fn a_message_that_is_not_a_cloud_event_is_rejected_without_an_effect() {
    let Some(url) = amqp_url("a_message_that_is_not_a_cloud_event_is_rejected_without_an_effect")
    else {
        return;
    };
    let mut rabbit = Rabbit::new(url).await;
    let queue = rabbit.bound_queue("garbage").await;
    rabbit
        .channel
        .basic_publish(
            rabbit.exchange().as_str().into(),
            "Garbage".into(),
            Default::default(),
            b"not json",
            Default::default(),
        )
        .await
        .expect("publish")
        .await
        .expect("routed");
    with_sqlite_inbox!(|inbox, counts| {
        let mut consumer = rabbit.consumer(&queue).await;
        let delivery = super::futures_util_free::next_delivery(&mut consumer).await;
        let outcome = handle_delivery(&inbox, &mut CountEffects::default(), &delivery)
            .await
            .expect("handled");
        assert!(
            matches!(
                outcome,
                DeliveryOutcome::Rejected {
                    message_id: None,
                    ..
                }
            ),
            "rejected: {outcome:?}"
        );
        assert_eq!(counts().await, ((0, 0, 0), 0), "no effect, no record");
    });
    assert_eq!(rabbit.ready(&queue).await, 0, "rejected, not requeued");
    rabbit.clean_up().await;
}
