//! What a handler receives beside the event: its envelope, whether it is replayed, and the
//! transaction to write through.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::event::{Metadata, RecordedEvent};

/// The context of one projected event: its envelope (stream, aggregate id, version, global
/// position, time, metadata), whether it is being replayed, and the transaction the read
/// model's writes go through.
#[derive(Debug)]
pub struct Context<'a, T> {
    envelope: &'a RecordedEvent,
    transaction: &'a mut T,
    replaying: bool,
}

impl<'a, T> Context<'a, T> {
    /// The context of the event `envelope`, written through `transaction`. A runner makes
    /// these; a test of a handler can too.
    pub fn new(envelope: &'a RecordedEvent, transaction: &'a mut T, replaying: bool) -> Self {
        Self {
            envelope,
            transaction,
            replaying,
        }
    }

    /// The transaction to write the read model through. On the SQL checkpoint stores it is
    /// the one the checkpoint commits in.
    pub fn transaction(&mut self) -> &mut T {
        self.transaction
    }

    /// The event's envelope, its payload left out (the handler has it typed).
    pub fn envelope(&self) -> &RecordedEvent {
        self.envelope
    }

    /// Whether the event is replayed: the projection is being rebuilt, or a new version is
    /// catching up with events an earlier version already handled. Side effects (mails,
    /// commands) should not be fired again for these.
    pub fn is_replay(&self) -> bool {
        self.replaying
    }

    /// The event's unique id: the key to de-duplicate with where delivery is at least once.
    pub fn event_id(&self) -> Uuid {
        self.envelope.event_id
    }

    /// Its position in the store's global order.
    pub fn position(&self) -> u64 {
        self.envelope.position
    }

    /// The stream it belongs to (`"{aggregate type}-{id}"` for aggregates).
    pub fn stream_id(&self) -> &str {
        &self.envelope.stream_id
    }

    /// The aggregate type of its stream.
    pub fn aggregate_type(&self) -> &str {
        &self.envelope.aggregate_type
    }

    /// The id of the aggregate it belongs to: the stream id without the aggregate type's
    /// prefix (the whole stream id for a stream not named that way).
    pub fn aggregate_id(&self) -> &str {
        let envelope = self.envelope;
        envelope
            .stream_id
            .strip_prefix(envelope.aggregate_type.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .unwrap_or(&envelope.stream_id)
    }

    /// Its version in its stream.
    pub fn version(&self) -> u64 {
        self.envelope.version
    }

    /// When the store recorded it.
    pub fn recorded_at(&self) -> OffsetDateTime {
        self.envelope.recorded_at
    }

    /// Its correlation, causation, actor and free-form context.
    pub fn metadata(&self) -> &Metadata {
        &self.envelope.metadata
    }
}
