//! Appending a batch: every check that can fail first (expected version, stream type, ids
//! already stored or repeated in the batch, chunk capacity), then the records, so a failed
//! append leaves the log as it was.

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use time::OffsetDateTime;

use super::Log;
use super::chunks::{CHUNK_LEN, Record, record_in};
use super::interning::IdHash;
use crate::event::{EventEnvelope, NewEvent, RecordedEvent};
use crate::store::memory::codec;
use crate::store::{ExpectedVersion, StoreError, check_batch, wrong_stream_type};

/// Batches up to this size look for an event id repeated within the batch by scanning the
/// batch; bigger ones use a hash table.
pub(super) const SCAN_LIMIT: usize = 32;

/// Working space of [`Log::append`].
#[derive(Default)]
pub(super) struct Scratch {
    /// The batch's new payloads, encoded, back to back.
    payloads: Vec<u8>,
    /// What becomes of each event of the batch, in order.
    fates: Vec<Fate>,
}

/// Scratch payload space above this is released after an append, so one huge batch does not
/// pin its size for the life of the store.
const SCRATCH_KEEP: usize = 64 * 1024;

/// What an append does with one event of its batch.
enum Fate {
    /// Its id is already stored: it comes back as recorded, and is not stored again.
    Stored(Box<RecordedEvent>),
    /// It is stored. Its encoded payload ends at `scratch_end` in [`Scratch::payloads`] and
    /// will end at `chunk_end` in its chunk's payloads; `id_hash` is its id's, computed once.
    New {
        id_hash: IdHash,
        scratch_end: usize,
        chunk_end: u32,
    },
    /// Its id is that of a new event earlier in the batch, at this index: it comes back as
    /// that one, and is not stored again.
    SameAs(usize),
}

impl Log {
    /// Appends `events` to `stream`, with the semantics of [`crate::store::EventStore::append`].
    pub(in crate::store::memory) fn append(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let appended = self.append_with(stream, expected, events, &mut scratch);
        scratch.fates.clear();
        scratch.payloads.clear();
        if scratch.payloads.capacity() > SCRATCH_KEEP {
            scratch.payloads = Vec::new();
        }
        self.scratch = scratch;
        appended
    }

    fn append_with(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        scratch: &mut Scratch,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        // Checks first: nothing below changes the log until every one has passed.
        let stream_index = self.stream(stream);
        let actual = stream_index.map_or(0, |index| self.streams[index].records.len() as u64);
        check_batch(stream, &events)?;
        let new_count = self.sort_out(&events, &mut scratch.fates)?;
        // A batch that is wholly a repeat succeeds whatever `expected` says: it is a retry of
        // an append that already happened.
        let is_pure_repeat = new_count == 0 && !events.is_empty();
        if !is_pure_repeat && !expected.accepts(actual) {
            return Err(StoreError::ConcurrencyConflict {
                stream: stream.to_owned(),
                expected,
                actual,
            });
        }
        if !is_pure_repeat
            && let Some(held) = stream_index.and_then(|index| self.aggregate_type_of(index))
            && let Some(refused) = wrong_stream_type(stream, &events, held)
        {
            return Err(refused);
        }
        if self.len() + new_count as u64 > u64::from(u32::MAX) {
            return Err(full(format!(
                "the in-memory store holds at most {} events",
                u32::MAX
            )));
        }
        if actual + new_count as u64 > u64::from(u32::MAX) {
            return Err(full(format!(
                "a stream of the in-memory store holds at most {} events",
                u32::MAX
            )));
        }
        let recorded_at = OffsetDateTime::now_utc();
        let recorded_at_nanos = i64::try_from(recorded_at.unix_timestamp_nanos())
            .map_err(|_| full("the clock is past what the in-memory store can record".into()))?;
        self.encode_payloads(&events, scratch)?;

        // Then the changes, which cannot fail.
        let stream_index = match stream_index {
            Some(index) => index,
            None if new_count > 0 => self.add_stream(stream),
            // Nothing to store, so no record takes this index: no need for the stream to exist.
            None => 0,
        };
        let mut version = actual as u32;
        let mut scratch_start = 0;
        let mut recorded: Vec<RecordedEvent> = Vec::with_capacity(events.len());
        for (event, fate) in events.into_iter().zip(scratch.fates.drain(..)) {
            let (id_hash, scratch_end, chunk_end) = match fate {
                Fate::Stored(envelope) => {
                    recorded.push(*envelope);
                    continue;
                }
                Fate::SameAs(earlier) => {
                    let envelope = recorded[earlier].clone();
                    recorded.push(envelope);
                    continue;
                }
                Fate::New {
                    id_hash,
                    scratch_end,
                    chunk_end,
                } => (id_hash, scratch_end, chunk_end),
            };
            version += 1;
            let index = self.len;
            let record = Record {
                event_id: event.event_id,
                recorded_at: recorded_at_nanos.to_le_bytes(),
                stream: stream_index as u32,
                version,
                kind: self.kind(
                    &event.aggregate_type,
                    &event.event_type,
                    event.event_version,
                ),
                metadata: self.metadata_ref(&event.metadata),
                payload_end: chunk_end,
            };
            self.push(
                record,
                id_hash,
                &scratch.payloads[scratch_start..scratch_end],
            );
            scratch_start = scratch_end;
            self.streams[stream_index].records.push(index);
            recorded.push(EventEnvelope {
                event_id: event.event_id,
                stream_id: stream.to_owned(),
                aggregate_type: event.aggregate_type,
                version: u64::from(version),
                position: u64::from(index) + 1,
                recorded_at,
                event_type: event.event_type,
                event_version: event.event_version,
                metadata: event.metadata,
                payload: (),
            });
        }
        Ok(recorded)
    }

    /// Decides the [`Fate`] of every event of a batch into `fates`, and returns how many will
    /// be stored. The ones already stored are read back now, as reading can fail.
    fn sort_out(&self, events: &[NewEvent], fates: &mut Vec<Fate>) -> Result<usize, StoreError> {
        // Ids of the batch's new events, for big batches only.
        let mut batch_ids: HashTable<usize> = HashTable::new();
        let mut new_count = 0;
        for (position, event) in events.iter().enumerate() {
            let id = event.event_id;
            let id_hash = IdHash::of(&self.hasher, id);
            let stored = self.ids.find(id_hash.full(), |slot| {
                slot.hash == id_hash && record_in(&self.chunks, slot.index).event_id == id
            });
            if let Some(slot) = stored {
                fates.push(Fate::Stored(Box::new(self.recorded(slot.index)?)));
                continue;
            }
            let earlier = if events.len() <= SCAN_LIMIT {
                events[..position]
                    .iter()
                    .zip(fates.iter())
                    .position(|(other, fate)| {
                        matches!(fate, Fate::New { .. }) && other.event_id == id
                    })
            } else {
                let is_same = |&other: &usize| events[other].event_id == id;
                let rehash =
                    |&other: &usize| IdHash::of(&self.hasher, events[other].event_id).full();
                match batch_ids.entry(id_hash.full(), is_same, rehash) {
                    Entry::Occupied(entry) => Some(*entry.get()),
                    Entry::Vacant(entry) => {
                        entry.insert(position);
                        None
                    }
                }
            };
            fates.push(match earlier {
                Some(earlier) => Fate::SameAs(earlier),
                None => {
                    new_count += 1;
                    // Filled in by `encode_payloads`.
                    Fate::New {
                        id_hash,
                        scratch_end: 0,
                        chunk_end: 0,
                    }
                }
            });
        }
        Ok(new_count)
    }

    /// Encodes the payloads of the batch's new events into the scratch space, and works out
    /// where each will end in its chunk, failing if a chunk would overflow.
    fn encode_payloads(
        &self,
        events: &[NewEvent],
        scratch: &mut Scratch,
    ) -> Result<(), StoreError> {
        let mut index = self.len as usize;
        let mut chunk_bytes = self.chunks.last().map_or(0, |chunk| chunk.payloads.len());
        for (event, fate) in events.iter().zip(scratch.fates.iter_mut()) {
            let Fate::New {
                scratch_end,
                chunk_end,
                ..
            } = fate
            else {
                continue;
            };
            let start = scratch.payloads.len();
            codec::encode_json(event.payload.as_str(), &mut scratch.payloads).map_err(|error| {
                // A `Payload` is valid JSON by construction: this is a bug, not bad input.
                StoreError::Backend(
                    format!(
                        "the payload of event {} is not JSON: {error}",
                        event.event_id
                    )
                    .into(),
                )
            })?;
            if index.is_multiple_of(CHUNK_LEN) {
                chunk_bytes = 0;
            }
            chunk_bytes += scratch.payloads.len() - start;
            *scratch_end = scratch.payloads.len();
            *chunk_end = u32::try_from(chunk_bytes)
                .ok()
                .filter(|&end| end <= self.max_chunk_bytes)
                .ok_or_else(|| {
                    full(format!(
                        "the in-memory store holds at most {} bytes of payload per {CHUNK_LEN} events",
                        self.max_chunk_bytes
                    ))
                })?;
            index += 1;
        }
        Ok(())
    }
}

/// A capacity limit of the in-memory store, reached.
fn full(message: String) -> StoreError {
    StoreError::Backend(message.into())
}
