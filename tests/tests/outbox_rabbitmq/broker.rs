//! The broker on its own: a lost connection, an unreachable broker, a nack.

use aggregato::outbox::rabbitmq::RabbitMqBroker;
use aggregato::outbox::rabbitmq::lapin::types::{AMQPValue, FieldTable};
use aggregato::outbox::{Broker as _, OutgoingMessage, PublishError};
use uuid::Uuid;

use super::{Rabbit, amqp_url};

/// A message for the bank's exchange that no consumer here decodes.
fn raw_message(position: u64) -> OutgoingMessage {
    OutgoingMessage {
        id: Uuid::now_v7(),
        stream_id: "BankAccount-raw".to_owned(),
        aggregate_type: "BankAccount".to_owned(),
        event_type: "Raw".to_owned(),
        route: None,
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
