//! What records reference instead of holding: stream names, event kinds (aggregate type,
//! event type, schema version) and metadata, each stored once; and the index of event ids,
//! for idempotent appends.
//!
//! Not for the records themselves (`chunks.rs`).

use std::hash::{BuildHasher, RandomState};

use hashbrown::hash_table::Entry;
use uuid::Uuid;

use super::Log;
use super::chunks::record_in;
use crate::event::Metadata;

#[derive(Debug)]
pub(super) struct Stream {
    pub(super) name: Box<str>,
    /// Indexes of its records in the log, in version order (so version `v` is at `v - 1`).
    pub(super) records: Vec<u32>,
}

/// An entry of [`Log::ids`]: a record index and the hash of its event id.
///
/// The hash is kept (32 bits of it, see [`IdHash`]) so that growing the table rehashes without
/// reading every record back: those reads are cache misses all over the log, and made growing
/// the table a tenth of the cost of appending.
#[derive(Debug, Clone, Copy)]
pub(super) struct IdSlot {
    pub(super) index: u32,
    pub(super) hash: IdHash,
}

/// 32 bits of an event id's hash, from which the table's 64-bit hash is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct IdHash(u32);

impl IdHash {
    pub(super) fn of(hasher: &RandomState, id: Uuid) -> Self {
        // As one `u128`, which hashes faster than the id's bytes as a slice. Truncation
        // intended: 32 bits address more slots than the table can hold.
        Self(hasher.hash_one(id.as_u128()) as u32)
    }

    /// The table's hash. hashbrown picks the slot from the low bits and keeps the top 7 as a
    /// tag; multiplying by an odd constant spreads all 32 bits into the top ones, so the tag
    /// still tells slots apart in tables of more than 2^25 slots.
    pub(super) fn full(self) -> u64 {
        u64::from(self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// What events share, stored once: the aggregate type, the event type and its schema version.
#[derive(Debug)]
pub(super) struct Kind {
    pub(super) aggregate_type: Box<str>,
    pub(super) event_type: Box<str>,
    pub(super) event_version: u32,
}

impl Kind {
    pub(super) fn key(&self) -> (&str, &str, u32) {
        (&self.aggregate_type, &self.event_type, self.event_version)
    }
}

impl Log {
    /// The index of the stream named `name`, if it holds events.
    pub(super) fn stream(&self, name: &str) -> Option<usize> {
        self.stream_index
            .find(self.hasher.hash_one(name), |&index| {
                *self.streams[index as usize].name == *name
            })
            .map(|&index| index as usize)
    }

    /// Adds an empty stream; the caller checked that it did not exist.
    pub(super) fn add_stream(&mut self, name: &str) -> usize {
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
    pub(super) fn kind(
        &mut self,
        aggregate_type: &str,
        event_type: &str,
        event_version: u32,
    ) -> u32 {
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
    pub(super) fn metadata_ref(&mut self, metadata: &Metadata) -> u32 {
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

    /// The aggregate type of the stream at `index`: that of its first event.
    pub(super) fn aggregate_type_of(&self, index: usize) -> Option<&str> {
        let first = *self.streams[index].records.first()?;
        let kind = record_in(&self.chunks, first).kind;
        Some(&self.kinds[kind as usize].aggregate_type)
    }
}
