//! The log behind [`super::InMemoryEventStore`]: every event as a compact record, in global
//! order, with the indexes the store needs.
//!
//! An [`EventEnvelope`](crate::event::EventEnvelope) with a `serde_json::Value` payload takes
//! about a kilobyte of heap for a two-field payload (owned strings for the stream, aggregate
//! type and event type, and a B-tree node for the object). Here an event is a fixed 44-byte
//! record (`chunks.rs`) plus its payload in a compact binary encoding
//! ([`codec`](super::codec)), about 20 bytes for `{"amount":100,"balance":200}`.
//! Strings repeated from event to event (stream ids, aggregate and event types) are stored
//! once and referenced by `u32` index; metadata is referenced too, and stored only when it is
//! not empty. Envelopes are rebuilt on read.
//!
//! Records and payload bytes live in fixed-size chunks rather than one growing `Vec`, so
//! growth never copies the whole log, and the spare capacity a doubling `Vec` keeps (up to
//! half of it, right after growing) is bounded by one chunk.
//!
//! Indexes are `u32`, so one store holds at most `u32::MAX` events (over 300 GB of them, far
//! beyond what this store is for); appends past that fail with
//! [`StoreError::Backend`](crate::store::StoreError::Backend).
//!
//! This file holds the log's state and what the other files share; `chunks.rs` lays records
//! out, `interning.rs` keeps the strings and ids they reference, `append.rs` stores a batch and
//! `read.rs` rebuilds events for the reads.

mod append;
mod chunks;
mod interning;
mod read;
#[cfg(test)]
mod tests;

use std::fmt;
use std::hash::RandomState;

use hashbrown::HashTable;

use self::append::Scratch;
use self::chunks::Chunk;
use self::interning::{IdSlot, Kind, Stream};
use crate::event::Metadata;

/// The whole log. Its methods keep one rule: [`Log::append`] checks everything that can fail
/// before it changes anything, so a failed append leaves the log as it was.
pub(in crate::store::memory) struct Log {
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
    pub(in crate::store::memory) fn len(&self) -> u64 {
        u64::from(self.len)
    }

    /// The last version of `stream`, 0 when it holds no event.
    pub(in crate::store::memory) fn version_of(&self, stream: &str) -> u64 {
        self.stream(stream)
            .map_or(0, |index| self.streams[index].records.len() as u64)
    }
}
