//! [`KafkaBroker`]: publishing a batch with the idempotent producer, pipelined, and reading
//! the delivery reports.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer as _};
use uuid::Uuid;

use super::topic::{Router, default_topic};
use super::{CONTENT_TYPE, CONTENT_TYPE_HEADER, MESSAGE_ID_HEADER};
use crate::outbox::{Broker, OutgoingMessage, PublishError};

/// How long librdkafka may try to deliver a message (`message.timeout.ms`) in
/// [`KafkaBroker::config`]: librdkafka's own default is 5 minutes, which would hold a batch
/// that long before the publisher hears the broker is down.
pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait before enqueueing again when librdkafka's local queue is full and the
/// batch has nothing of its own in flight to wait for (another clone of the producer filled it).
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(10);

/// A [`Broker`] publishing to Kafka through rdkafka's [`FutureProducer`], with the idempotent
/// producer and `acks=all`. See the [module docs](super) for topics, keys, headers and errors.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use aggregato::outbox::Publisher;
/// use aggregato::outbox::kafka::KafkaBroker;
///
/// let broker = KafkaBroker::new("127.0.0.1:9092", "bank")?;
/// // Topic `bank.BankAccount`, 6 partitions, 3 replicas (an existing topic is left as it is).
/// broker
///     .create_topics([broker.topic_for("BankAccount")], 6, 3)
///     .await?;
/// let publisher: Publisher<KafkaBroker> = Publisher::new(broker, "urn:service:bank");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct KafkaBroker {
    config: ClientConfig,
    producer: FutureProducer,
    /// The last batch failed as unavailable: the next one starts a new producer session.
    session_in_doubt: bool,
    prefix: String,
    /// The user's topic function, which wins over routes and the default.
    router: Option<Router>,
}

impl KafkaBroker {
    /// A broker publishing to the Kafka cluster at `brokers` (`host:port[,host:port...]`)
    /// with [`config`](Self::config), to the topics `<prefix>.<aggregate type>`.
    pub fn new(brokers: &str, prefix: impl Into<String>) -> Result<Self, KafkaError> {
        Self::from_config(Self::config(brokers), prefix)
    }

    /// The producer settings [`new`](Self::new) uses: `bootstrap.servers` = `brokers`,
    /// `enable.idempotence=true` and `acks=all` (what "acknowledged" means for the outbox),
    /// `message.timeout.ms` = [`DEFAULT_DELIVERY_TIMEOUT`], `partitioner=murmur2_random` (the
    /// Java client's, so other producers put a stream's messages on the same partition), and
    /// `allow.auto.create.topics=false` (a topic's partition count decides how far order
    /// holds, so topics are created on purpose: [`create_topics`](Self::create_topics)).
    /// Add security or tuning settings and pass it to [`from_config`](Self::from_config).
    pub fn config(brokers: &str) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set(
                "message.timeout.ms",
                DEFAULT_DELIVERY_TIMEOUT.as_millis().to_string(),
            )
            .set("partitioner", "murmur2_random")
            .set("allow.auto.create.topics", "false");
        config
    }

    /// A broker with the producer `config` makes, publishing to the topics
    /// `<prefix>.<aggregate type>`. `enable.idempotence=true` and `acks=all` are set whatever
    /// `config` says: without them an acknowledgement would not mean the message is stored.
    pub fn from_config(
        mut config: ClientConfig,
        prefix: impl Into<String>,
    ) -> Result<Self, KafkaError> {
        config.set("enable.idempotence", "true").set("acks", "all");
        let producer = config.create()?;
        Ok(Self {
            config,
            producer,
            session_in_doubt: false,
            prefix: prefix.into(),
            router: None,
        })
    }

    /// Publishes each message to the topic `topics` returns for it instead of
    /// `<prefix>.<route>` or `<prefix>.<aggregate type>`: the function wins over an event's
    /// [route](OutgoingMessage::route), and can read it. Send one stream's events to one
    /// topic: the key (the stream id) keeps them on one partition, in order, only within a
    /// topic.
    pub fn with_topics(
        mut self,
        topics: impl Fn(&OutgoingMessage) -> String + Send + Sync + 'static,
    ) -> Self {
        self.router = Some(Arc::new(topics));
        self
    }

    /// The topic prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The default topic of `aggregate_type`'s events: `<prefix>.<aggregate type>`, made a
    /// legal topic name ([`topic_name`](super::topic_name)). Ignores
    /// [`with_topics`](Self::with_topics).
    pub fn topic_for(&self, aggregate_type: &str) -> String {
        super::topic_name(&format!("{}.{aggregate_type}", self.prefix))
    }

    /// The topic `message` is published to: the [`with_topics`](Self::with_topics)
    /// function's if one was set; otherwise `<prefix>.<route>` for an event with a route
    /// (`#[event(route = "...")]`, given to the publisher with
    /// [`Publisher::with_routes`](crate::outbox::Publisher::with_routes)); otherwise
    /// `<prefix>.<aggregate type>`. A routed event's stream should route all its events to one
    /// topic, or they lose their order across topics.
    pub fn topic(&self, message: &OutgoingMessage) -> String {
        match (&self.router, &message.route) {
            (Some(router), _) => router(message),
            (None, Some(route)) => super::topic_name(&format!("{}.{route}", self.prefix)),
            (None, None) => default_topic(&self.prefix, message),
        }
    }

    /// The producer (a clone shares it).
    pub fn producer(&self) -> &FutureProducer {
        &self.producer
    }

    /// Creates `topics` with `partitions` partitions and `replication` replicas each, through
    /// an admin client on this broker's settings; a topic that exists is left as it is.
    /// Returns their names.
    pub async fn create_topics<I>(
        &self,
        topics: I,
        partitions: i32,
        replication: i32,
    ) -> Result<Vec<String>, TopicError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let names: Vec<String> = topics
            .into_iter()
            .map(|topic| topic.as_ref().to_owned())
            .collect();
        let admin: AdminClient<DefaultClientContext> =
            self.config.create().map_err(TopicError::Client)?;
        let new_topics: Vec<NewTopic<'_>> = names
            .iter()
            .map(|name| NewTopic::new(name, partitions, TopicReplication::Fixed(replication)))
            .collect();
        let results = admin
            .create_topics(&new_topics, &AdminOptions::new())
            .await
            .map_err(TopicError::Client)?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => return Err(TopicError::Refused { topic, code }),
            }
        }
        Ok(names)
    }

    /// A fresh producer when librdkafka declared this one's error fatal (an idempotent
    /// producer whose sequence broke: it publishes nothing more, and the publisher would
    /// otherwise retry on it forever), or when the last batch failed as unavailable. After
    /// a timed-out delivery the idempotent session's sequence numbers are in doubt; recovering
    /// them needs an epoch bump that not every Kafka-protocol broker supports (tansu 0.6 left
    /// the old session stalled for good after a 30-second outage). A new session republishes
    /// what the old one may have stored, and the inbox drops those duplicates.
    fn renew_if_needed(&mut self) -> Result<(), PublishError> {
        let fatal = self.producer.client().fatal_error();
        if fatal.is_some() || self.session_in_doubt {
            match fatal {
                Some((code, reason)) => tracing::warn!(
                    ?code,
                    %reason,
                    "the Kafka producer failed fatally; making a new one"
                ),
                None => tracing::info!(
                    "the last Kafka batch failed as unavailable; publishing it again in a new producer session"
                ),
            }
            self.producer = self
                .config
                .create()
                .map_err(|error| PublishError::Unavailable(Box::new(error)))?;
            self.session_in_doubt = false;
        }
        Ok(())
    }

    /// Hands one message to librdkafka; its delivery report is awaited later. When
    /// librdkafka's queue is full, awaits the oldest report of the batch to make room.
    async fn send(
        &self,
        message: &OutgoingMessage,
        topic: &str,
        in_flight: &mut VecDeque<InFlight>,
        failure: &mut Option<PublishError>,
    ) -> Result<DeliveryFuture, PublishError> {
        let id = message.id.to_string();
        let headers = OwnedHeaders::new_with_capacity(2)
            .insert(Header {
                key: CONTENT_TYPE_HEADER,
                value: Some(CONTENT_TYPE),
            })
            .insert(Header {
                key: MESSAGE_ID_HEADER,
                value: Some(id.as_str()),
            });
        let mut record = FutureRecord::to(topic)
            .key(message.stream_id.as_str())
            .payload(message.body.as_slice())
            .headers(headers);
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => return Ok(delivery),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    match in_flight.pop_front() {
                        Some(oldest) => {
                            if let Err(error) = oldest.delivered().await {
                                failure.get_or_insert(error);
                            }
                        }
                        None => tokio::time::sleep(QUEUE_FULL_PAUSE).await,
                    }
                }
                Err((error, _)) => return Err(classify(error, topic, message.id)),
            }
        }
    }
}

/// Why [`KafkaBroker::create_topics`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// The admin client could not be made, or the request failed.
    #[error("creating Kafka topics failed: {0}")]
    Client(#[source] KafkaError),
    /// The cluster refused to create a topic.
    #[error("Kafka refused to create topic `{topic}`: {code}")]
    Refused {
        /// The topic.
        topic: String,
        /// What the cluster said.
        code: RDKafkaErrorCode,
    },
}

/// A message handed to librdkafka, its delivery report not read yet.
struct InFlight {
    message_id: Uuid,
    topic: String,
    delivery: DeliveryFuture,
}

impl InFlight {
    /// Awaits the delivery report.
    async fn delivered(self) -> Result<(), PublishError> {
        match self.delivery.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err((error, _))) => Err(classify(error, &self.topic, self.message_id)),
            // The producer went away before reporting: nothing says the message was stored.
            Err(_canceled) => Err(PublishError::Unavailable(Box::new(KafkaError::Canceled))),
        }
    }
}

impl fmt::Debug for KafkaBroker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaBroker")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Broker for KafkaBroker {
    async fn publish(&mut self, messages: &[OutgoingMessage]) -> Result<(), PublishError> {
        self.renew_if_needed()?;
        let mut in_flight = VecDeque::with_capacity(messages.len());
        let mut failure = None;
        for message in messages {
            if failure.is_some() {
                break;
            }
            let topic = self.topic(message);
            match self
                .send(message, &topic, &mut in_flight, &mut failure)
                .await
            {
                Ok(delivery) => in_flight.push_back(InFlight {
                    message_id: message.id,
                    topic,
                    delivery,
                }),
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        // Every report is read, also after a failure: a message still queued in librdkafka
        // when the batch is retried could otherwise land after the retry's copy of a later
        // event of its stream.
        while let Some(oldest) = in_flight.pop_front() {
            if let Err(error) = oldest.delivered().await {
                failure.get_or_insert(error);
            }
        }
        match failure {
            Some(error) => {
                self.session_in_doubt = matches!(error, PublishError::Unavailable(_));
                Err(error)
            }
            None => Ok(()),
        }
    }
}

/// What a Kafka error means for the outbox.
fn classify(error: KafkaError, topic: &str, message_id: Uuid) -> PublishError {
    use RDKafkaErrorCode as Code;
    match error.rdkafka_error_code() {
        // No such topic (or partition), and the cluster does not create it: publishing
        // elsewhere is a deployment decision, so the publisher stops.
        Some(Code::UnknownTopicOrPartition | Code::UnknownTopic | Code::UnknownPartition) => {
            PublishError::Unroutable {
                destination: topic.to_owned(),
                message_id,
            }
        }
        // The cluster refuses this message, and would refuse it again.
        Some(
            Code::MessageSizeTooLarge
            | Code::MessageBatchTooLarge
            | Code::InvalidMessage
            | Code::InvalidMessageSize
            | Code::InvalidRecord
            | Code::InvalidTopic
            | Code::TopicAuthorizationFailed
            | Code::ClusterAuthorizationFailed
            | Code::PolicyViolation
            | Code::UnsupportedForMessageFormat,
        ) => PublishError::Rejected {
            message_id,
            reason: format!("{error} (topic `{topic}`)"),
        },
        // Timeouts, lost connections, leader changes, a fatal producer error (the next
        // attempt makes a new producer): try again.
        _ => PublishError::Unavailable(Box::new(error)),
    }
}
