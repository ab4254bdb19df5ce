//! How the log lays events out: a fixed-size [`Record`] per event and its payload bytes, in
//! chunks of [`CHUNK_LEN`] records, addressed by the event's index in the log.
//!
//! Not for what the records reference (`interning.rs`) nor for deciding what to store.

use uuid::Uuid;

use super::Log;
use super::interning::{IdHash, IdSlot};

/// Records per chunk. A full chunk's records take 176 KiB.
pub(super) const CHUNK_LEN: usize = 4096;

/// One stored event, without its payload bytes (which end at `payload_end` in its chunk's
/// `payloads` and start where the previous record's end, or at 0 for a chunk's first record).
///
/// Every field has an alignment of at most 4 (the timestamp is kept as bytes for that), so a
/// record is 44 bytes with no padding.
#[derive(Debug, Clone, Copy)]
pub(super) struct Record {
    pub(super) event_id: Uuid,
    /// Unix time in nanoseconds, `i64` little-endian: good until the year 2262.
    pub(super) recorded_at: [u8; 8],
    /// Index into [`Log::streams`].
    pub(super) stream: u32,
    /// Version in its stream, from 1.
    pub(super) version: u32,
    /// Index into [`Log::kinds`].
    pub(super) kind: u32,
    /// 0 for empty metadata, else 1 + an index into [`Log::metadata`].
    pub(super) metadata: u32,
    pub(super) payload_end: u32,
}

#[derive(Debug, Default)]
pub(super) struct Chunk {
    /// At most [`CHUNK_LEN`]; grows by doubling up to exactly that capacity.
    pub(super) records: Vec<Record>,
    /// The encoded payloads of `records`, back to back.
    pub(super) payloads: Vec<u8>,
}

impl Log {
    /// Appends a record and its payload bytes, and indexes its id.
    pub(super) fn push(&mut self, record: Record, id_hash: IdHash, payload: &[u8]) {
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
    pub(super) fn record(&self, index: u32) -> (&Record, &[u8]) {
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
}

/// The record at `index`, without its payload.
pub(super) fn record_in(chunks: &[Chunk], index: u32) -> &Record {
    let index = index as usize;
    &chunks[index / CHUNK_LEN].records[index % CHUNK_LEN]
}
