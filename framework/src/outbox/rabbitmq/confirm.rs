//! What the broker's answers mean for the outbox: confirms, returns and channel errors as
//! [`PublishError`]s.

use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::{Confirmation, ErrorKind, PublisherConfirm};

use crate::outbox::{OutgoingMessage, PublishError};

/// `exchange/routing key`: how a destination is named in errors.
pub(super) fn destination(exchange: &str, routing_key: &str) -> String {
    format!("{exchange}/{routing_key}")
}

/// A lapin error as a publish error. The broker closing the channel because the exchange does
/// not exist (404) is unroutable, for `message` when known; another channel-level refusal
/// (access refused, a precondition) is a rejection; everything else (the connection, IO, a
/// closed channel) is unavailable and retried.
pub(super) fn classify(
    error: lapin::Error,
    message: Option<(&OutgoingMessage, &String, &String)>,
) -> PublishError {
    let ErrorKind::ProtocolError(amqp) = error.kind() else {
        return PublishError::Unavailable(Box::new(error));
    };
    let AMQPErrorKind::Soft(soft) = amqp.kind() else {
        return PublishError::Unavailable(Box::new(error));
    };
    match (soft, message) {
        (AMQPSoftError::NOTFOUND, Some((message, exchange, routing_key))) => {
            PublishError::Unroutable {
                destination: destination(exchange, routing_key),
                message_id: message.id,
            }
        }
        (_, Some((message, _, _))) => PublishError::Rejected {
            message_id: message.id,
            reason: amqp.to_string(),
        },
        (_, None) => PublishError::Unavailable(Box::new(error)),
    }
}

/// Awaits every confirm, in order, and reports the first message that was returned
/// (unroutable) or nacked. Every confirm is awaited even after a failure, so none is left to
/// a later batch on the same channel.
pub(super) async fn all_confirmed(
    confirms: Vec<PublisherConfirm>,
    messages: &[OutgoingMessage],
    routes: &[(String, String)],
) -> Result<(), PublishError> {
    let mut first_failure = None;
    for ((confirm, message), (exchange, routing_key)) in
        confirms.into_iter().zip(messages).zip(routes)
    {
        let failure = match confirm.await {
            // Acked, but returned first: no queue took it. An ack alone would lose it.
            Ok(Confirmation::Ack(Some(returned))) => Some(PublishError::Unroutable {
                destination: destination(
                    returned.delivery.exchange.as_str(),
                    returned.delivery.routing_key.as_str(),
                ),
                message_id: message.id,
            }),
            Ok(Confirmation::Ack(None)) => None,
            Ok(Confirmation::Nack(returned)) => Some(PublishError::Rejected {
                message_id: message.id,
                reason: match returned {
                    Some(returned) => format!(
                        "negatively acknowledged, and returned: {} {}",
                        returned.reply_code, returned.reply_text
                    ),
                    None => format!(
                        "negatively acknowledged on `{}`",
                        destination(exchange, routing_key)
                    ),
                },
            }),
            // Confirm mode is on for every channel this broker opens: not asked means the
            // channel was replaced under us, and nothing is known of the message.
            Ok(Confirmation::NotRequested) => Some(PublishError::Unavailable(
                "the channel is not in confirm mode: the broker's answer is unknown".into(),
            )),
            Err(error) => Some(classify(error, Some((message, exchange, routing_key)))),
        };
        if first_failure.is_none() {
            first_failure = failure;
        }
    }
    first_failure.map_or(Ok(()), Err)
}
