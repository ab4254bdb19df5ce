//! RabbitMQ (feature `rabbitmq`): [`RabbitMqBroker`] publishes the outbox with publisher
//! confirms and mandatory routing; [`consume`] handles deliveries through an inbox.
//!
//! **Routing.** By default each aggregate type has a durable topic exchange,
//! `<prefix>.<aggregate type>` (prefix `aggregato` unless [set](RabbitMqBroker::with_exchange_prefix)),
//! and the routing key is the event's stored name, so a consumer binds `BankAccount`'s
//! exchange with `#` for everything, or `MoneyDeposited` for one event. An event whose type
//! has `#[event(route = "payments.settled")]`, published by a publisher given its
//! aggregate's routes ([`Publisher::with_routes`](crate::outbox::Publisher::with_routes)),
//! goes to the same exchange with its route as the routing key (bind `payments.*`, say).
//! [`with_exchanges`](RabbitMqBroker::with_exchanges) and
//! [`with_routing_key`](RabbitMqBroker::with_routing_key) change either; a routing key
//! function wins over routes;
//! [`declare_exchanges`](RabbitMqBroker::declare_exchanges) declares them.
//!
//! **What counts as published.** Every message goes out with `mandatory` set, and the batch
//! counts only once the broker confirmed every message of it. RabbitMQ *acknowledges* a
//! message that no queue takes; with `mandatory` it first returns it (`basic.return`, just
//! before the ack), and the broker reports that return as [`PublishError::Unroutable`],
//! naming the exchange and routing key: a missing binding stops the publisher instead of
//! losing events. A negative acknowledgement is [`PublishError::Rejected`]; a lost connection,
//! or confirms that do not come in time, [`PublishError::Unavailable`] (the next attempt
//! connects again).
//!
//! **Properties.** `message_id` = the event id, `content_type` =
//! `application/cloudevents+json`, persistent delivery, `type` = the event's stored name,
//! `timestamp` = when it was published.
//!
//! lapin is built here for tokio and without TLS; for `amqps://` URIs enable one of lapin's TLS
//! features (`rustls`, `native-tls`, `openssl`) in your own manifest. The crate re-exports
//! [`lapin`] so your code uses the same version.

mod confirm;
mod consumer;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use lapin;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

pub use consumer::{
    ConsumeError, DeliveryHandler, DeliveryInbox, DeliveryOutcome, consume, decode_delivery,
    handle_delivery,
};

use super::{Broker, OutgoingMessage, PublishError};

/// The content type of every message: a CloudEvent in structured JSON.
pub const CONTENT_TYPE: &str = "application/cloudevents+json";
/// The exchange prefix unless configured otherwise.
pub const DEFAULT_EXCHANGE_PREFIX: &str = "aggregato";
/// How long publishing a batch may take (connecting and confirms included) unless configured
/// otherwise.
pub const DEFAULT_CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

type ExchangeNamer = Arc<dyn Fn(&str) -> String + Send + Sync>;
type RoutingKey = Arc<dyn Fn(&OutgoingMessage) -> String + Send + Sync>;

/// Publishes the outbox to RabbitMQ: see the [module docs](self).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use aggregato::outbox::rabbitmq::RabbitMqBroker;
///
/// let mut broker = RabbitMqBroker::connect("amqp://guest:guest@127.0.0.1:5672/%2f")
///     .await?
///     .with_exchange_prefix("bank");
/// broker.declare_exchanges(["BankAccount"]).await?; // topic exchange `bank.BankAccount`
/// # Ok(())
/// # }
/// ```
pub struct RabbitMqBroker {
    uri: String,
    connection: Option<Connection>,
    channel: Option<Channel>,
    exchange: ExchangeNamer,
    /// A routing key function of the user's, which wins over routes and the default.
    routing_key: Option<RoutingKey>,
    confirm_timeout: Duration,
}

impl RabbitMqBroker {
    /// Connects to the broker at `uri` (`amqp://user:password@host:port/vhost`) and opens a
    /// channel in confirm mode. The same URI is used to connect again after the connection
    /// is lost.
    pub async fn connect(uri: impl Into<String>) -> Result<Self, PublishError> {
        let mut broker = Self {
            uri: uri.into(),
            connection: None,
            channel: None,
            exchange: prefixed(DEFAULT_EXCHANGE_PREFIX),
            routing_key: None,
            confirm_timeout: DEFAULT_CONFIRM_TIMEOUT,
        };
        broker.channel().await?;
        Ok(broker)
    }

    /// Names each aggregate type's exchange `<prefix>.<aggregate type>`.
    pub fn with_exchange_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.exchange = prefixed(&prefix.into());
        self
    }

    /// Names each aggregate type's exchange with `name` (given the aggregate type).
    pub fn with_exchanges(mut self, name: impl Fn(&str) -> String + Send + Sync + 'static) -> Self {
        self.exchange = Arc::new(name);
        self
    }

    /// Routes each message with the routing key `key` gives (by default the message's
    /// [`route`](OutgoingMessage::route), else the event's stored name): the stream id, say,
    /// or a tenant and the event type. It wins over the message's route, which it sees and
    /// may use.
    pub fn with_routing_key(
        mut self,
        key: impl Fn(&OutgoingMessage) -> String + Send + Sync + 'static,
    ) -> Self {
        self.routing_key = Some(Arc::new(key));
        self
    }

    /// The routing key of `message`: the [routing key function](Self::with_routing_key)'s if
    /// one was set, else its [`route`](OutgoingMessage::route), else its event type.
    pub fn routing_key(&self, message: &OutgoingMessage) -> String {
        match (&self.routing_key, &message.route) {
            (Some(key), _) => key(message),
            (None, Some(route)) => route.clone().into_owned(),
            (None, None) => message.event_type.clone(),
        }
    }

    /// Sets how long publishing a batch may take, connecting and confirms included (30 s by
    /// default), before the batch counts as [`Unavailable`](PublishError::Unavailable) and is
    /// published again.
    pub fn with_confirm_timeout(mut self, timeout: Duration) -> Self {
        self.confirm_timeout = timeout;
        self
    }

    /// The exchange of `aggregate_type`'s events.
    pub fn exchange_for(&self, aggregate_type: &str) -> String {
        (self.exchange)(aggregate_type)
    }

    /// Declares the durable topic exchange of each of `aggregate_types` (idempotent; an
    /// exchange that exists with other settings fails); returns their names.
    pub async fn declare_exchanges<'a>(
        &mut self,
        aggregate_types: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<String>, PublishError> {
        let mut names = Vec::new();
        for aggregate_type in aggregate_types {
            let name = self.exchange_for(aggregate_type);
            let channel = self.channel().await?;
            let declared = channel
                .exchange_declare(
                    name.as_str().into(),
                    ExchangeKind::Topic,
                    ExchangeDeclareOptions {
                        durable: true,
                        ..ExchangeDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await;
            if let Err(error) = declared {
                self.channel = None;
                return Err(confirm::classify(error, None));
            }
            names.push(name);
        }
        Ok(names)
    }

    /// The connection, if one is open.
    pub fn connection(&self) -> Option<&Connection> {
        self.connection.as_ref()
    }

    /// The confirm-mode channel, opened (and the connection made) if needed.
    async fn channel(&mut self) -> Result<&Channel, PublishError> {
        let usable = |channel: &Channel| channel.status().connected();
        if !self.channel.as_ref().is_some_and(usable) {
            self.channel = None;
            let channel = self.open_channel().await?;
            self.channel = Some(channel);
        }
        self.channel
            .as_ref()
            .ok_or_else(|| PublishError::Unavailable("no channel to RabbitMQ".into()))
    }

    async fn open_channel(&mut self) -> Result<Channel, PublishError> {
        let unavailable = |error: lapin::Error| PublishError::Unavailable(Box::new(error));
        if !self
            .connection
            .as_ref()
            .is_some_and(|connection| connection.status().connected())
        {
            self.connection = None;
            let connection = Connection::connect(&self.uri, ConnectionProperties::default())
                .await
                .map_err(unavailable)?;
            self.connection = Some(connection);
        }
        let Some(connection) = &self.connection else {
            return Err(PublishError::Unavailable(
                "not connected to RabbitMQ".into(),
            ));
        };
        let channel = connection.create_channel().await.map_err(unavailable)?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(unavailable)?;
        Ok(channel)
    }

    /// Publishes the batch pipelined, then awaits its confirms in order.
    async fn publish_batch(&mut self, messages: &[OutgoingMessage]) -> Result<(), PublishError> {
        let routes: Vec<(String, String)> = messages
            .iter()
            .map(|message| {
                (
                    self.exchange_for(&message.aggregate_type),
                    self.routing_key(message),
                )
            })
            .collect();
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let channel = self.channel().await?;
        let mut confirms = Vec::with_capacity(messages.len());
        let mut publish_error = None;
        for (message, (exchange, routing_key)) in messages.iter().zip(&routes) {
            let properties = BasicProperties::default()
                .with_message_id(message.id.to_string().into())
                .with_content_type(CONTENT_TYPE.into())
                .with_delivery_mode(2)
                .with_type(message.event_type.as_str().into())
                .with_timestamp(timestamp);
            let published = channel
                .basic_publish(
                    exchange.as_str().into(),
                    routing_key.as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        immediate: false,
                    },
                    &message.body,
                    properties,
                )
                .await;
            match published {
                Ok(confirm) => confirms.push(confirm),
                Err(error) => {
                    // The broker may have closed the channel over an earlier message (a
                    // missing exchange): its confirm says why, and comes first.
                    publish_error = Some(confirm::classify(
                        error,
                        Some((message, exchange, routing_key)),
                    ));
                    break;
                }
            }
        }
        let published = confirms.len();
        let confirmed =
            confirm::all_confirmed(confirms, &messages[..published], &routes[..published]).await;
        match (confirmed, publish_error) {
            (Err(error), _) | (Ok(()), Some(error)) => Err(error),
            (Ok(()), None) => Ok(()),
        }
    }
}

impl Broker for RabbitMqBroker {
    async fn publish(&mut self, messages: &[OutgoingMessage]) -> Result<(), PublishError> {
        let timeout = self.confirm_timeout;
        // The whole of it, connecting included: a broker that blocks publishers (a memory or
        // disk alarm) or stops answering makes the batch unavailable, to be tried again.
        let published = match tokio::time::timeout(timeout, self.publish_batch(messages)).await {
            Ok(published) => published,
            Err(_) => Err(PublishError::Unavailable(
                format!("RabbitMQ did not take and confirm the batch within {timeout:?}").into(),
            )),
        };
        if published.is_err() {
            // The channel may hold confirms of the failed batch, or be closed by the broker (a
            // missing exchange): the next attempt starts on a fresh one.
            if let Some(channel) = self.channel.take()
                && channel.status().connected()
            {
                let _ =
                    tokio::time::timeout(timeout, channel.close(200, "batch failed".into())).await;
            }
        }
        published
    }
}

impl fmt::Debug for RabbitMqBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitMqBroker")
            .field("connected", &self.connection.is_some())
            .field("confirm_timeout", &self.confirm_timeout)
            .finish_non_exhaustive()
    }
}

fn prefixed(prefix: &str) -> ExchangeNamer {
    let prefix = prefix.to_owned();
    Arc::new(move |aggregate_type| format!("{prefix}.{aggregate_type}"))
}
