//! The log behind [`super::InMemoryEventStore`]: every event as a compact record, in global
//! order, with the indexes the store needs.
//!
//! An [`EventEnvelope`] with a `serde_json::Value` payload takes about a kilobyte of heap for a
//! two-field payload (owned strings for the stream, aggregate type and event type, and a
//! B-tree node for the object). Here an event is a fixed 44-byte [`Record`] plus its payload
//! in a compact binary encoding ([`codec`]), about 20 bytes for `{"amount":100,"balance":200}`.
//! Strings repeated from event to event (stream ids, aggregate and event types) are stored
//! once and referenced by `u32` index; metadata is referenced too, and stored only when it is
//! not empty. Envelopes are rebuilt on read.
//!
//! Records and payload bytes live in fixed-size chunks rather than one growing `Vec`, so
//! growth never copies the whole log, and the spare capacity a doubling `Vec` keeps (up to
//! half of it, right after growing) is bounded by one chunk.
//!
//! Indexes are `u32`, so one store holds at most `u32::MAX` events (over 300 GB of them, far
//! beyond what this store is for); appends past that fail with [`StoreError::Backend`].

use std::fmt;
use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec;
use crate::event::{EventEnvelope, Metadata, NewEvent};
use crate::store::{
    CorruptionReason, EventFilter, ExpectedVersion, ReplayEvent, ReplayPayload, ReplayVisitor,
    StoreError, check_batch, wrong_stream_type,
};

/// Records per chunk. A full chunk's records take 176 KiB.
const CHUNK_LEN: usize = 4096;

/// Batches up to this size look for an event id repeated within the batch by scanning the
/// batch; bigger ones use a hash table.
const SCAN_LIMIT: usize = 32;

/// One stored event, without its payload bytes (which end at `payload_end` in its chunk's
/// `payloads` and start where the previous record's end, or at 0 for a chunk's first record).
///
/// Every field has an alignment of at most 4 (the timestamp is kept as bytes for that), so a
/// record is 44 bytes with no padding.
#[derive(Debug, Clone, Copy)]
struct Record {
    event_id: Uuid,
    /// Unix time in nanoseconds, `i64` little-endian: good until the year 2262.
    recorded_at: [u8; 8],
    /// Index into [`Log::streams`].
    stream: u32,
    /// Version in its stream, from 1.
    version: u32,
    /// Index into [`Log::kinds`].
    kind: u32,
    /// 0 for empty metadata, else 1 + an index into [`Log::metadata`].
    metadata: u32,
    payload_end: u32,
}

#[derive(Debug, Default)]
struct Chunk {
    /// At most [`CHUNK_LEN`]; grows by doubling up to exactly that capacity.
    records: Vec<Record>,
    /// The encoded payloads of `records`, back to back.
    payloads: Vec<u8>,
}

#[derive(Debug)]
struct Stream {
    name: Box<str>,
    /// Indexes of its records in the log, in version order (so version `v` is at `v - 1`).
    records: Vec<u32>,
}

/// An entry of [`Log::ids`]: a record index and the hash of its event id.
///
/// The hash is kept (32 bits of it, see [`IdHash`]) so that growing the table rehashes without
/// reading every record back: those reads are cache misses all over the log, and made growing
/// the table a tenth of the cost of appending.
#[derive(Debug, Clone, Copy)]
struct IdSlot {
    index: u32,
    hash: IdHash,
}

/// 32 bits of an event id's hash, from which the table's 64-bit hash is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IdHash(u32);

impl IdHash {
    fn of(hasher: &RandomState, id: Uuid) -> Self {
        // As one `u128`, which hashes faster than the id's bytes as a slice. Truncation
        // intended: 32 bits address more slots than the table can hold.
        Self(hasher.hash_one(id.as_u128()) as u32)
    }

    /// The table's hash. hashbrown picks the slot from the low bits and keeps the top 7 as a
    /// tag; multiplying by an odd constant spreads all 32 bits into the top ones, so the tag
    /// still tells slots apart in tables of more than 2^25 slots.
    fn full(self) -> u64 {
        u64::from(self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// What events share, stored once: the aggregate type, the event type and its schema version.
#[derive(Debug)]
struct Kind {
    aggregate_type: Box<str>,
    event_type: Box<str>,
    event_version: u32,
}

impl Kind {
    fn key(&self) -> (&str, &str, u32) {
        (&self.aggregate_type, &self.event_type, self.event_version)
    }
}

/// The whole log. Its methods keep one rule: [`Log::append`] checks everything that can fail
/// before it changes anything, so a failed append leaves the log as it was.
pub(super) struct Log {
    chunks: Vec<Chunk>,
    /// Number of records; record `i` has global position `i + 1`.
    len: u32,
    streams: Vec<Stream>,
    /// Indexes into `streams`, hashed by name, so a lookup by `&str` allocates nothing.
    stream_index: HashTable<u32>,
    kinds: Vec<Kind>,
    /// Indexes into `kinds`, hashed by [`Kind::key`].
    kind_index: HashTable<u32>,
    /// Non-empty metadata of stored events. Consecutive events with equal metadata (the events
    /// of one batch, usually) share one entry.
    metadata: Vec<Metadata>,
    /// Every record, by event id, for idempotent appends: 9 bytes a slot, where a
    /// `HashMap<Uuid, u32>` would take 21.
    ids: HashTable<IdSlot>,
    /// The kind of the last event stored: consecutive events are often of one kind, and
    /// comparing two short strings is quicker than hashing them.
    last_kind: Option<u32>,
    /// Hashes for all the tables. Randomly seeded: ids and stream names come from callers.
    hasher: RandomState,
    /// Reused by every append, so appending allocates no scratch space.
    scratch: Scratch,
    /// The most payload bytes one chunk may hold: `u32::MAX`, as offsets are `u32`. Tests
    /// lower it to reach the limit.
    max_chunk_bytes: u32,
}

/// Working space of [`Log::append`].
#[derive(Default)]
struct Scratch {
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
    Stored(Box<EventEnvelope>),
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

impl Default for Log {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
            streams: Vec::new(),
            stream_index: HashTable::new(),
            kinds: Vec::new(),
            kind_index: HashTable::new(),
            metadata: Vec::new(),
            ids: HashTable::new(),
            last_kind: None,
            hasher: RandomState::new(),
            scratch: Scratch::default(),
            max_chunk_bytes: u32::MAX,
        }
    }
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A summary: the derived form would print every record.
        f.debug_struct("Log")
            .field("events", &self.len)
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

impl Log {
    /// The number of events, which is also the newest global position.
    pub(super) fn len(&self) -> u64 {
        u64::from(self.len)
    }

    /// The last version of `stream`, 0 when it holds no event.
    pub(super) fn version_of(&self, stream: &str) -> u64 {
        self.stream(stream)
            .map_or(0, |index| self.streams[index].records.len() as u64)
    }

    /// Events of `stream` from version `from_version` on.
    pub(super) fn read_stream(
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
    pub(super) fn replay_stream(
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
                payload: ReplayPayload::Value(&payload),
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
    pub(super) fn read_all(
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

    /// The aggregate type of the stream at `index`: that of its first event.
    fn aggregate_type_of(&self, index: usize) -> Option<&str> {
        let first = *self.streams[index].records.first()?;
        let kind = record_in(&self.chunks, first).kind;
        Some(&self.kinds[kind as usize].aggregate_type)
    }

    /// Appends `events` to `stream`, with the semantics of [`crate::store::EventStore::append`].
    pub(super) fn append(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
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
    ) -> Result<Vec<EventEnvelope>, StoreError> {
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
        let mut recorded: Vec<EventEnvelope> = Vec::with_capacity(events.len());
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
                payload: event.payload,
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
                fates.push(Fate::Stored(Box::new(self.envelope(slot.index)?)));
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
            codec::encode(&event.payload, &mut scratch.payloads);
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

    /// Appends a record and its payload bytes, and indexes its id.
    fn push(&mut self, record: Record, id_hash: IdHash, payload: &[u8]) {
        let index = self.len;
        if (index as usize).is_multiple_of(CHUNK_LEN) {
            if let Some(full) = self.chunks.last_mut() {
                // It will not grow again: give back the spare capacity of its last doubling.
                full.payloads.shrink_to_fit();
            }
            self.chunks.push(Chunk::default());
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.payloads.extend_from_slice(payload);
            chunk.records.push(record);
        }
        self.len += 1;
        let slot = IdSlot {
            index,
            hash: id_hash,
        };
        self.ids
            .insert_unique(id_hash.full(), slot, |slot| slot.hash.full());
    }

    /// The record at `index` and its payload bytes.
    fn record(&self, index: u32) -> (&Record, &[u8]) {
        let index = index as usize;
        let chunk = &self.chunks[index / CHUNK_LEN];
        let offset = index % CHUNK_LEN;
        let record = &chunk.records[offset];
        let start = match offset {
            0 => 0,
            _ => chunk.records[offset - 1].payload_end as usize,
        };
        (record, &chunk.payloads[start..record.payload_end as usize])
    }

    /// The record at `index`, as an envelope.
    fn envelope(&self, index: u32) -> Result<EventEnvelope, StoreError> {
        let (record, payload) = self.record(index);
        let stream = &self.streams[record.stream as usize].name;
        let kind = &self.kinds[record.kind as usize];
        let corrupt = |reason: String| StoreError::Corrupt {
            stream: stream.to_string(),
            version: u64::from(record.version),
            position: Some(u64::from(index) + 1),
            reason: CorruptionReason::Other(reason),
        };
        let payload = codec::decode(payload).map_err(|error| corrupt(error.to_string()))?;
        let nanos = i64::from_le_bytes(record.recorded_at);
        let recorded_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
            .map_err(|error| corrupt(format!("stored time {nanos} ns is invalid: {error}")))?;
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
            payload,
        })
    }

    /// The index of the stream named `name`, if it holds events.
    fn stream(&self, name: &str) -> Option<usize> {
        self.stream_index
            .find(self.hasher.hash_one(name), |&index| {
                *self.streams[index as usize].name == *name
            })
            .map(|&index| index as usize)
    }

    /// Adds an empty stream; the caller checked that it did not exist.
    fn add_stream(&mut self, name: &str) -> usize {
        let index = self.streams.len();
        let Self {
            streams,
            stream_index,
            hasher,
            ..
        } = self;
        // At most one stream per stored event, so the index fits a `u32`.
        stream_index.insert_unique(hasher.hash_one(name), index as u32, |&other| {
            hasher.hash_one(&*streams[other as usize].name)
        });
        streams.push(Stream {
            name: name.into(),
            records: Vec::new(),
        });
        index
    }

    /// The index of this kind of event, added if new.
    fn kind(&mut self, aggregate_type: &str, event_type: &str, event_version: u32) -> u32 {
        let key = (aggregate_type, event_type, event_version);
        if let Some(last) = self.last_kind
            && self.kinds[last as usize].key() == key
        {
            return last;
        }
        let index = self.find_or_add_kind(key);
        self.last_kind = Some(index);
        index
    }

    fn find_or_add_kind(&mut self, key: (&str, &str, u32)) -> u32 {
        let (aggregate_type, event_type, event_version) = key;
        let Self {
            kinds,
            kind_index,
            hasher,
            ..
        } = self;
        let entry = kind_index.entry(
            hasher.hash_one(key),
            |&index| kinds[index as usize].key() == key,
            |&index| hasher.hash_one(kinds[index as usize].key()),
        );
        match entry {
            Entry::Occupied(entry) => *entry.get(),
            Entry::Vacant(entry) => {
                // At most one kind per stored event, so the index fits a `u32`.
                let index = kinds.len() as u32;
                entry.insert(index);
                kinds.push(Kind {
                    aggregate_type: aggregate_type.into(),
                    event_type: event_type.into(),
                    event_version,
                });
                index
            }
        }
    }

    /// The [`Record::metadata`] reference for `metadata`, storing it if needed.
    fn metadata_ref(&mut self, metadata: &Metadata) -> u32 {
        let is_empty = metadata.correlation_id.is_none()
            && metadata.causation_id.is_none()
            && metadata.actor.is_none()
            && metadata.extra.is_empty();
        if is_empty {
            return 0;
        }
        if self.metadata.last() != Some(metadata) {
            self.metadata.push(metadata.clone());
        }
        // At most one entry per stored event, so this fits a `u32`.
        self.metadata.len() as u32
    }
}

/// The record at `index`, without its payload.
fn record_in(chunks: &[Chunk], index: u32) -> &Record {
    let index = index as usize;
    &chunks[index / CHUNK_LEN].records[index % CHUNK_LEN]
}

/// A capacity limit of the in-memory store, reached.
fn full(message: String) -> StoreError {
    StoreError::Backend(message.into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(payload: serde_json::Value) -> NewEvent {
        NewEvent {
            event_id: Uuid::now_v7(),
            aggregate_type: "Thing".into(),
            event_type: "Happened".into(),
            event_version: 1,
            metadata: Metadata::default(),
            payload,
        }
    }

    #[test]
    fn record_is_44_bytes() {
        assert_eq!(size_of::<Record>(), 44);
    }

    #[test]
    fn records_span_chunks() -> Result<(), StoreError> {
        let mut log = Log::default();
        // Divisible by the 3 streams.
        let total = CHUNK_LEN as u64 * 2 + 4;
        for n in 0..total {
            let stream = format!("s-{}", n % 3);
            let recorded =
                log.append(&stream, ExpectedVersion::Any, vec![event(json!({"n": n}))])?;
            assert_eq!(recorded[0].position, n + 1);
        }
        let all = log.read_all(0, usize::MAX, &EventFilter::all())?;
        assert_eq!(all.len() as u64, total);
        for (n, envelope) in all.iter().enumerate() {
            assert_eq!(envelope.payload, json!({"n": n}));
            assert_eq!(envelope.version, n as u64 / 3 + 1);
        }
        assert_eq!(log.read_all(total - 1, 5, &EventFilter::all())?.len(), 1);
        assert_eq!(log.read_stream("s-1", 1)?.len() as u64, total / 3);
        Ok(())
    }

    #[test]
    fn a_chunk_that_would_overflow_fails_the_whole_batch() -> Result<(), StoreError> {
        let mut log = Log {
            max_chunk_bytes: 64,
            ..Log::default()
        };
        log.append(
            "s",
            ExpectedVersion::Any,
            vec![event(json!("x".repeat(30)))],
        )?;
        let batch = vec![event(json!("y".repeat(10))), event(json!("z".repeat(30)))];
        let result = log.append("s", ExpectedVersion::Exact(1), batch);
        assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
        assert_eq!(log.len(), 1);
        assert_eq!(log.version_of("s"), 1);
        let recorded = log.append("s", ExpectedVersion::Exact(1), vec![event(json!(1))])?;
        assert_eq!((recorded[0].version, recorded[0].position), (2, 2));
        assert_eq!(log.read_stream("s", 1)?.len(), 2);
        Ok(())
    }

    #[test]
    fn repeated_ids_in_a_big_batch_are_stored_once() -> Result<(), StoreError> {
        let mut log = Log::default();
        let mut batch: Vec<NewEvent> = (0..SCAN_LIMIT as u64 * 2)
            .map(|n| event(json!(n)))
            .collect();
        let repeat = batch[3].clone();
        batch.push(repeat);
        let recorded = log.append("s", ExpectedVersion::NoStream, batch)?;
        assert_eq!(recorded.len(), SCAN_LIMIT * 2 + 1);
        assert_eq!(recorded.last(), Some(&recorded[3]));
        assert_eq!(log.len(), SCAN_LIMIT as u64 * 2);
        Ok(())
    }

    #[test]
    fn metadata_is_kept_per_event() -> Result<(), StoreError> {
        let mut log = Log::default();
        let with = |actor: &str| NewEvent {
            metadata: Metadata::new().with_actor(actor),
            ..event(json!(null))
        };
        let batch = vec![with("a"), with("a"), event(json!(null)), with("b")];
        log.append("s", ExpectedVersion::Any, batch.clone())?;
        assert_eq!(log.metadata.len(), 2);
        let read = log.read_stream("s", 1)?;
        let metadata: Vec<_> = read.into_iter().map(|envelope| envelope.metadata).collect();
        let expected: Vec<_> = batch.into_iter().map(|event| event.metadata).collect();
        assert_eq!(metadata, expected);
        Ok(())
    }
}
