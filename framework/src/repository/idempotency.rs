//! Idempotent commands: the ids a command and its events get from an idempotency key (a
//! request id, a saga step's key), and the events an earlier execution under the same key
//! stored, so a client that retries after a lost reply gets them back instead of a second copy.
//!
//! The ids are name-based UUIDs (v5) of the stream, the key and the event's place in the
//! command's batch: the same key on the same stream always gives the same ids, in any process,
//! and the same key on another stream gives others.

use uuid::Uuid;

use super::RepositoryResult;
use crate::aggregate::Aggregate;
use crate::event::EventEnvelope;
use crate::store::{CorruptionReason, EventStore, StoreError};

/// The namespace of every id derived here (a random UUID, fixed forever: changing it would
/// make retries of commands executed before the change run again).
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2b8e_93d4_4c0a_9e57_1d2a_8b3f_c460);

/// The id of the command executed on `stream` under `key`.
pub(crate) fn command_id(stream: &str, key: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("command\n{stream}\n{key}").as_bytes())
}

/// The id of the `index`-th event (from 0) of the command executed on `stream` under `key`.
pub(crate) fn event_id(stream: &str, key: &str, index: usize) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("event\n{stream}\n{key}\n{index}").as_bytes(),
    )
}

/// The events the command keyed `key` stored in `stream` before, decoded, in order; `None`
/// when it stored none (never ran, or was rejected, or changed nothing: then it runs).
pub(super) async fn stored_before<A: Aggregate, S: EventStore>(
    store: &S,
    stream: &str,
    key: &str,
) -> RepositoryResult<Option<Vec<EventEnvelope<A::Event>>>, A> {
    let Some(first) = store.find_event(stream, event_id(stream, key, 0)).await? else {
        return Ok(None);
    };
    // Its events were appended as one batch: consecutive versions from the first.
    let mut events = Vec::new();
    for (index, envelope) in store
        .read_stream(stream, first.version)
        .await?
        .into_iter()
        .enumerate()
    {
        if envelope.event_id != event_id(stream, key, index) {
            break;
        }
        let position = envelope.position;
        let (stream_id, version) = (envelope.stream_id.clone(), envelope.version);
        let decoded = envelope
            .decode::<A::Event>()
            .map_err(|error| StoreError::Corrupt {
                stream: stream_id,
                version,
                position: Some(position),
                reason: CorruptionReason::Decode(error),
            })?;
        events.push(decoded);
    }
    Ok(Some(events))
}
