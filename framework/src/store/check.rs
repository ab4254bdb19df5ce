//! What every store refuses before it stores anything: events it could not read back, and
//! batches that mix aggregate types. Each backend also checks the stream's own aggregate type
//! under its append lock, since only it can see the stream.

use serde_json::Value;

use super::{RefusalReason, Snapshot, StoreError};
use crate::event::NewEvent;

/// The deepest nesting of arrays and objects a stored payload (or metadata value, or snapshot)
/// may have. JSON readers bound their recursion (`serde_json` at 127 levels), so anything
/// deeper would be stored and then fail every read of it: the stores refuse it at append.
pub const MAX_JSON_DEPTH: usize = 127;

/// Metadata is stored as `{"extra": {"key": value}}`: two levels above each free-form value.
const METADATA_LEVELS: usize = 2;

/// Checks a batch before it is appended to `stream`: every event readable back, and all of one
/// aggregate type. Returns that type (`None` for an empty batch).
pub(crate) fn check_batch<'e>(
    stream: &str,
    events: &'e [NewEvent],
) -> Result<Option<&'e str>, StoreError> {
    let Some(first) = events.first() else {
        return Ok(None);
    };
    for event in events {
        let refuse = |reason| StoreError::Refused {
            stream: stream.to_owned(),
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            reason,
        };
        if event.aggregate_type != first.aggregate_type {
            return Err(refuse(RefusalReason::AggregateType {
                expected: first.aggregate_type.clone(),
                found: event.aggregate_type.clone(),
            }));
        }
        if let Some(depth) = too_deep_text(event.payload.as_str(), MAX_JSON_DEPTH) {
            return Err(refuse(too_deep_reason("payload", depth, MAX_JSON_DEPTH)));
        }
        let metadata_limit = MAX_JSON_DEPTH - METADATA_LEVELS;
        if let Some(depth) = event
            .metadata
            .extra
            .values()
            .find_map(|value| too_deep(value, metadata_limit))
        {
            return Err(refuse(too_deep_reason(
                "metadata",
                depth + METADATA_LEVELS,
                MAX_JSON_DEPTH,
            )));
        }
    }
    Ok(Some(&first.aggregate_type))
}

/// The refusal of a batch appended to a stream whose stored events are of aggregate type
/// `expected`, naming the batch's first event of another type (`None`: the batch fits).
pub(crate) fn wrong_stream_type(
    stream: &str,
    events: &[NewEvent],
    expected: &str,
) -> Option<StoreError> {
    let event = events.iter().find(|e| e.aggregate_type != expected)?;
    Some(StoreError::Refused {
        stream: stream.to_owned(),
        event_id: event.event_id,
        event_type: event.event_type.clone(),
        reason: RefusalReason::AggregateType {
            expected: expected.to_owned(),
            found: event.aggregate_type.clone(),
        },
    })
}

/// Checks a snapshot can be read back once stored.
pub(crate) fn check_snapshot(snapshot: &Snapshot) -> Result<(), StoreError> {
    match too_deep(&snapshot.payload, MAX_JSON_DEPTH) {
        None => Ok(()),
        Some(depth) => Err(StoreError::SnapshotRefused {
            stream: snapshot.stream_id.clone(),
            version: snapshot.version,
            reason: too_deep_reason("payload", depth, MAX_JSON_DEPTH),
        }),
    }
}

fn too_deep_reason(part: &'static str, depth: usize, limit: usize) -> RefusalReason {
    RefusalReason::TooDeep { part, depth, limit }
}

/// `Some(depth)` if `value` nests more than `limit` arrays and objects; the depth is counted
/// only up to `limit + 1`, so the walk never goes deeper than that.
fn too_deep(value: &Value, limit: usize) -> Option<usize> {
    fn deeper_than(value: &Value, remaining: usize) -> bool {
        let Some(below) = remaining.checked_sub(1) else {
            // No level left: any container is one too many.
            return value.is_array() || value.is_object();
        };
        match value {
            Value::Array(items) => items.iter().any(|child| deeper_than(child, below)),
            Value::Object(fields) => fields.values().any(|child| deeper_than(child, below)),
            _ => false,
        }
    }
    deeper_than(value, limit).then_some(limit + 1)
}

/// [`too_deep`] on JSON text: `Some(limit + 1)` if it nests more than `limit` arrays and
/// objects. One pass over the bytes, counting brackets outside strings; the text is valid JSON
/// (a [`Payload`](crate::event::Payload) always is), so nothing else can open or close one.
fn too_deep_text(json: &str, limit: usize) -> Option<usize> {
    // Every level opens with a bracket, so text with no more than `limit` of them (shorter
    // than `limit`, which most payloads are, or counted in a loop that vectorizes) cannot be
    // deeper: the bracket-by-bracket walk below is only for the rest.
    if json.len() <= limit || json.bytes().filter(|&b| b == b'[' || b == b'{').count() <= limit {
        return None;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json.as_bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(limit + 1);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{MAX_JSON_DEPTH, too_deep, too_deep_text};

    fn nested(depth: usize) -> Value {
        (0..depth).fold(json!(1), |inner, level| {
            if level % 2 == 0 {
                json!([inner])
            } else {
                json!({ "a": inner })
            }
        })
    }

    #[test]
    fn depth_is_counted_in_containers() {
        assert_eq!(too_deep(&json!(1), 0), None);
        assert_eq!(too_deep(&json!([]), 0), Some(1));
        assert_eq!(too_deep(&json!([]), 1), None);
        // An object holding an array holding an object holding an object: four levels.
        assert_eq!(too_deep(&json!({"a": [1, {"b": {}}]}), 4), None);
        assert_eq!(too_deep(&json!({"a": [1, {"b": {}}]}), 3), Some(4));
    }

    #[test]
    fn text_depth_agrees_with_value_depth() {
        let cases = [
            json!(1),
            json!([]),
            json!({"a": [1, {"b": {}}]}),
            json!({"[{": ["]}", {"\"[": "\\{"}], "x": [[[]]]}),
            nested(MAX_JSON_DEPTH),
            nested(MAX_JSON_DEPTH + 1),
        ];
        for value in &cases {
            let text = value.to_string();
            for limit in [0, 1, 2, 3, 4, MAX_JSON_DEPTH] {
                assert_eq!(
                    too_deep_text(&text, limit),
                    too_deep(value, limit),
                    "{text} at {limit}"
                );
            }
        }
    }

    #[test]
    fn the_limit_is_what_serde_json_reads_back() -> Result<(), serde_json::Error> {
        let deepest = nested(MAX_JSON_DEPTH);
        assert_eq!(too_deep(&deepest, MAX_JSON_DEPTH), None);
        let text = serde_json::to_string(&deepest)?;
        assert_eq!(serde_json::from_str::<Value>(&text)?, deepest);
        let deeper = nested(MAX_JSON_DEPTH + 1);
        assert!(too_deep(&deeper, MAX_JSON_DEPTH).is_some());
        let text = serde_json::to_string(&deeper)?;
        assert!(serde_json::from_str::<Value>(&text).is_err());
        Ok(())
    }
}
