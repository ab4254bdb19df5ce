//! Reading the log back: envelopes rebuilt from records for `read_stream` and `read_all`
//! (the latter skipping, by their interned kind, the events a filter leaves out), and the
//! borrowed view `replay_stream` hands a visitor.

use time::OffsetDateTime;

use super::Log;
use super::chunks::record_in;
use crate::event::{EventEnvelope, Metadata, RecordedEvent};
use crate::store::memory::codec;
use crate::store::{
    CorruptionReason, EventFilter, ReplayEvent, ReplayVisitor, StoreError, StoredPayload,
};

impl Log {
    /// Events of `stream` from version `from_version` on.
    pub(in crate::store::memory) fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.records_from(stream, from_version)
            .iter()
            .map(|&record| self.envelope(record))
            .collect()
    }

    /// Hands `visit` what replaying `stream` from `from_version` needs: versions, names and
    /// payloads, without building whole envelopes (no stream, type or metadata copies, no time
    /// conversion).
    pub(in crate::store::memory) fn replay_stream(
        &self,
        stream: &str,
        from_version: u64,
        visit: &mut ReplayVisitor<'_>,
    ) -> Result<(), StoreError> {
        for &index in self.records_from(stream, from_version) {
            let (record, payload) = self.record(index);
            let kind = &self.kinds[record.kind as usize];
            let payload = codec::decode(payload).map_err(|error| StoreError::Corrupt {
                stream: stream.to_owned(),
                version: u64::from(record.version),
                position: Some(u64::from(index) + 1),
                reason: CorruptionReason::Other(error.to_string()),
            })?;
            visit(ReplayEvent {
                version: u64::from(record.version),
                aggregate_type: &kind.aggregate_type,
                event_type: &kind.event_type,
                event_version: kind.event_version,
                payload: StoredPayload::Value(&payload),
            })?;
        }
        Ok(())
    }

    /// The record indexes of `stream` from version `from_version` on (none for an unknown
    /// stream).
    fn records_from(&self, stream: &str, from_version: u64) -> &[u32] {
        let Some(index) = self.stream(stream) else {
            return &[];
        };
        let skip = usize::try_from(from_version.saturating_sub(1)).unwrap_or(usize::MAX);
        self.streams[index].records.get(skip..).unwrap_or_default()
    }

    /// At most `limit` events that pass `filter`, after global position `after_position`.
    /// Events that do not pass are told apart by their record's interned kind: no envelope is
    /// built for them.
    pub(in crate::store::memory) fn read_all(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let mut page = Vec::new();
        if filter.is_none() {
            return Ok(page);
        }
        let passing = self.kinds_passing(filter);
        // Both bounds are at most `self.len`, a `u32`.
        for index in after_position.min(self.len()) as u32..self.len {
            if page.len() >= limit {
                break;
            }
            let kind = record_in(&self.chunks, index).kind as usize;
            if passing.as_ref().is_some_and(|passing| !passing[kind]) {
                continue;
            }
            match self.envelope(index) {
                Ok(envelope) => page.push(envelope),
                // The events before a corrupt one are handed out first; the next read meets it.
                Err(_) if !page.is_empty() => break,
                Err(error) => return Err(error),
            }
        }
        Ok(page)
    }

    /// Which kinds pass `filter`, by kind index; `None` when all do.
    fn kinds_passing(&self, filter: &EventFilter) -> Option<Vec<bool>> {
        if filter.is_all() {
            return None;
        }
        let passing = self
            .kinds
            .iter()
            .map(|kind| filter.matches(&kind.aggregate_type, &kind.event_type))
            .collect();
        Some(passing)
    }

    /// The record at `index`, as an envelope.
    pub(super) fn envelope(&self, index: u32) -> Result<EventEnvelope, StoreError> {
        let recorded = self.recorded(index)?;
        let (_, payload) = self.record(index);
        let payload = codec::decode(payload).map_err(|error| StoreError::Corrupt {
            stream: recorded.stream_id.clone(),
            version: recorded.version,
            position: Some(recorded.position),
            reason: CorruptionReason::Other(error.to_string()),
        })?;
        Ok(recorded.with_payload(payload))
    }

    /// The record at `index`, as an append hands it back: without its payload, which is not
    /// decoded.
    pub(super) fn recorded(&self, index: u32) -> Result<RecordedEvent, StoreError> {
        let (record, _) = self.record(index);
        let stream = &self.streams[record.stream as usize].name;
        let kind = &self.kinds[record.kind as usize];
        let nanos = i64::from_le_bytes(record.recorded_at);
        let recorded_at =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)).map_err(|error| {
                StoreError::Corrupt {
                    stream: stream.to_string(),
                    version: u64::from(record.version),
                    position: Some(u64::from(index) + 1),
                    reason: CorruptionReason::Other(format!(
                        "stored time {nanos} ns is invalid: {error}"
                    )),
                }
            })?;
        let metadata = match record.metadata {
            0 => Metadata::default(),
            reference => self.metadata[reference as usize - 1].clone(),
        };
        Ok(EventEnvelope {
            event_id: record.event_id,
            stream_id: stream.to_string(),
            aggregate_type: kind.aggregate_type.to_string(),
            version: u64::from(record.version),
            position: index as u64 + 1,
            recorded_at,
            event_type: kind.event_type.to_string(),
            event_version: kind.event_version,
            metadata,
            payload: (),
        })
    }
}
