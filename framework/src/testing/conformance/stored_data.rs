//! The conformance checks of what a store keeps exactly or refuses: one aggregate type per
//! stream, nesting it could not read back, and floats bit for bit.

use serde_json::json;

use super::{
    append_batch, append_ok, nested, numbers, panic_with, read_all, read_stream, sample_event,
    version_of,
};
use crate::event::{Metadata, NewEvent, RecordedEvent};
use crate::store::{
    EventStore, ExpectedVersion, MAX_JSON_DEPTH, RefusalReason, StoreError, StoredPayload,
};

/// A stream holds the events of one aggregate type: an event of another type, appended to it
/// or mixed into a batch, is refused whole with [`StoreError::Refused`], and nothing is stored.
pub async fn a_stream_keeps_one_aggregate_type<S: EventStore>(store: S) {
    append_ok(&store, "Counter-victim", ExpectedVersion::NoStream, 1).await;
    let mut intruder = sample_event(2);
    intruder.aggregate_type = "Intruder".to_owned();
    for expected in [ExpectedVersion::Any, ExpectedVersion::Exact(1)] {
        let refused = store
            .append("Counter-victim", expected, vec![intruder.clone()])
            .await;
        assert_refused_type(&refused, "Conformance", "Intruder");
    }
    let mixed = store
        .append(
            "Counter-mixed",
            ExpectedVersion::Any,
            vec![sample_event(3), intruder.clone()],
        )
        .await;
    assert_refused_type(&mixed, "Conformance", "Intruder");
    assert_eq!(
        numbers(&read_all(&store, 0, 100).await),
        [1],
        "refused events are not stored"
    );
    assert_eq!(version_of(&store, "Counter-mixed").await, 0);
}

fn assert_refused_type(
    result: &Result<Vec<RecordedEvent>, StoreError>,
    expected_type: &str,
    found_type: &str,
) {
    let refused = matches!(
        result,
        Err(StoreError::Refused {
            reason: RefusalReason::AggregateType { expected, found },
            ..
        }) if expected == expected_type && found == found_type
    );
    if !refused {
        panic_with(&format!(
            "an event of type {found_type} in a stream of {expected_type} must be refused, got {result:?}"
        ));
    }
}

/// What a store stores it can read back: a payload nested [`MAX_JSON_DEPTH`] levels reads back
/// through every read; one level more (in the payload or a metadata value) is refused at
/// append, so it can never stop a reader.
pub async fn what_cannot_be_read_back_is_refused<S: EventStore>(store: S) {
    let deepest_value = nested(MAX_JSON_DEPTH);
    let deepest = NewEvent {
        payload: (&deepest_value).into(),
        ..sample_event(1)
    };
    append_batch(
        &store,
        "deep",
        ExpectedVersion::NoStream,
        vec![deepest.clone()],
    )
    .await;
    assert_eq!(
        read_stream(&store, "deep", 1).await[0].payload,
        deepest_value
    );
    assert_eq!(read_all(&store, 0, 10).await[0].payload, deepest_value);
    let mut replayed = Vec::new();
    store
        .replay_stream("deep", 1, &mut |event| {
            let value = match event.payload {
                StoredPayload::Value(value) => value.clone(),
                StoredPayload::Json(text) => serde_json::from_str(text).unwrap_or_default(),
            };
            replayed.push(value);
            Ok(())
        })
        .await
        .unwrap_or_else(|error| panic_with(&format!("replay of the deepest payload: {error}")));
    assert_eq!(
        replayed,
        std::slice::from_ref(&deepest_value),
        "the deepest payload replays"
    );

    let too_deep = NewEvent {
        payload: nested(MAX_JSON_DEPTH + 1).into(),
        ..sample_event(2)
    };
    let deep_metadata = NewEvent {
        metadata: Metadata::new().with_extra("trace", nested(MAX_JSON_DEPTH - 1)),
        ..sample_event(3)
    };
    for (event, part) in [(too_deep, "payload"), (deep_metadata, "metadata")] {
        let refused = store
            .append("deep", ExpectedVersion::Any, vec![sample_event(4), event])
            .await;
        let is_refused = matches!(
            &refused,
            Err(StoreError::Refused { reason: RefusalReason::TooDeep { part: p, .. }, .. })
                if *p == part
        );
        if !is_refused {
            panic_with(&format!(
                "a {part} nested too deep must be refused, got {refused:?}"
            ));
        }
    }
    assert_eq!(
        version_of(&store, "deep").await,
        1,
        "refused batches store nothing"
    );
}

/// Every finite `f64` comes back bit for bit, through `read_stream`, `read_all` and
/// `replay_stream`: negative zero, the extremes, subnormals, and a few thousand random bit
/// patterns.
pub async fn floats_come_back_bit_for_bit<S: EventStore>(store: S) {
    let mut floats = vec![
        0.0,
        -0.0,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::EPSILON,
        5e-324,
        -5e-324,
        0.1,
        1.0 / 3.0,
        9_007_199_254_740_993.0,
        1e300,
        123_456_789.123_456_78,
    ];
    // xorshift64*: deterministic, so a failure names values that can be tried again.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    while floats.len() < 3_000 {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let value = f64::from_bits(state.wrapping_mul(0x2545_f491_4f6c_dd1d));
        if value.is_finite() {
            floats.push(value);
        }
    }
    let events: Vec<NewEvent> = floats
        .chunks(100)
        .map(|chunk| NewEvent {
            payload: json!({ "values": chunk }).into(),
            ..sample_event(0)
        })
        .collect();
    append_batch(&store, "floats", ExpectedVersion::NoStream, events).await;
    let bits = |payloads: Vec<serde_json::Value>| -> Vec<u64> {
        payloads
            .iter()
            .flat_map(|payload| payload["values"].as_array().cloned().unwrap_or_default())
            .map(|value| value.as_f64().map_or(u64::MAX, f64::to_bits))
            .collect()
    };
    let expected: Vec<u64> = floats.iter().map(|value| value.to_bits()).collect();
    let from_stream = read_stream(&store, "floats", 1).await;
    let from_log = read_all(&store, 0, 1_000).await;
    let mut replayed = Vec::new();
    store
        .replay_stream("floats", 1, &mut |event| {
            // Decoded as a typed reader would: straight from the stored text when there is one.
            let values: Result<Vec<f64>, serde_json::Error> = match event.payload {
                StoredPayload::Value(value) => serde_json::from_value(value["values"].clone()),
                StoredPayload::Json(text) => serde_json::from_str::<serde_json::Value>(text)
                    .and_then(|value| serde_json::from_value(value["values"].clone())),
            };
            replayed.extend(values.unwrap_or_default().into_iter().map(f64::to_bits));
            Ok(())
        })
        .await
        .unwrap_or_else(|error| panic_with(&format!("replay of floats: {error}")));
    for (read, got) in [
        (
            "read_stream",
            bits(from_stream.into_iter().map(|e| e.payload).collect()),
        ),
        (
            "read_all",
            bits(from_log.into_iter().map(|e| e.payload).collect()),
        ),
        ("replay_stream", replayed),
    ] {
        let changed: Vec<(f64, f64)> = expected
            .iter()
            .zip(&got)
            .filter(|(want, have)| want != have)
            .map(|(want, have)| (f64::from_bits(*want), f64::from_bits(*have)))
            .take(5)
            .collect();
        if got.len() != expected.len() || !changed.is_empty() {
            panic_with(&format!(
                "{read} must return every float bit for bit; {} of {} read, first changes (stored, read): {changed:?}",
                got.len(),
                expected.len()
            ));
        }
    }
}
