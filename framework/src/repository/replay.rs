//! Folding a stream's events into an aggregate's state, one event at a time as the store
//! hands them over, checking that each is the next version.

use crate::aggregate::Aggregate;
use crate::store::{CorruptionReason, ReplayEvent, StoreError};

/// The state being rebuilt from `stream`, as of `version`.
pub(super) struct Replayer<'s, A> {
    stream: &'s str,
    state: A,
    version: u64,
    /// The version of the first event, which is not applied: the last event a snapshot
    /// already includes, read to prove the snapshot belongs to the stream as it is now.
    included_first: Option<u64>,
    /// The first event was not the one the snapshot includes (or there was none).
    mismatch: bool,
}

impl<'s, A: Aggregate> Replayer<'s, A> {
    /// A replay of `stream` from its first event.
    pub(super) fn from_start(stream: &'s str) -> Self {
        Self {
            stream,
            state: A::initial_state(),
            version: 0,
            included_first: None,
            mismatch: false,
        }
    }

    /// A replay from a snapshot of `stream` at `version`, reading from that version's event.
    pub(super) fn from_snapshot(stream: &'s str, state: A, version: u64) -> Self {
        Self {
            stream,
            state,
            version,
            included_first: Some(version),
            mismatch: false,
        }
    }

    /// Applies the next event of the stream.
    pub(super) fn visit(&mut self, event: ReplayEvent<'_>) -> Result<(), StoreError> {
        if self.mismatch {
            return Ok(());
        }
        if let Some(included) = self.included_first.take() {
            self.mismatch = event.version != included || event.aggregate_type != A::AGGREGATE_TYPE;
            return Ok(());
        }
        let corrupt = |reason| StoreError::Corrupt {
            stream: self.stream.to_owned(),
            version: event.version,
            position: None,
            reason,
        };
        // Stores refuse to mix aggregate types in a stream, but rows written around them (or
        // before they checked) may: an event of another aggregate is never applied.
        if event.aggregate_type != A::AGGREGATE_TYPE {
            return Err(corrupt(CorruptionReason::AggregateType {
                expected: A::AGGREGATE_TYPE.to_owned(),
                found: event.aggregate_type.to_owned(),
            }));
        }
        if event.version != self.version + 1 {
            return Err(corrupt(CorruptionReason::VersionGap {
                expected: self.version + 1,
                found: event.version,
            }));
        }
        let decoded: A::Event = event.decode().map_err(|error| corrupt(error.into()))?;
        self.state.evolve(&decoded);
        self.version = event.version;
        Ok(())
    }

    /// Whether the snapshot a replay started from fits the stream: its own event was read
    /// first, as it was recorded. Always true for a replay from the start.
    pub(super) fn fits(&self) -> bool {
        !self.mismatch && self.included_first.is_none()
    }

    /// The rebuilt state and its version.
    pub(super) fn into_parts(self) -> (A, u64) {
        (self.state, self.version)
    }
}
