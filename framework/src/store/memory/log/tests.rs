//! The log's own tests: layout limits and the paths the conformance suite cannot reach.

use serde_json::json;

use super::Log;
use super::append::SCAN_LIMIT;
use super::chunks::{CHUNK_LEN, Record};
use crate::event::{Metadata, NewEvent};
use crate::store::{EventFilter, ExpectedVersion, StoreError};
use uuid::Uuid;

fn event(payload: serde_json::Value) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        aggregate_type: "Thing".into(),
        event_type: "Happened".into(),
        event_version: 1,
        metadata: Metadata::default(),
        payload: payload.into(),
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
        let recorded = log.append(&stream, ExpectedVersion::Any, vec![event(json!({"n": n}))])?;
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
