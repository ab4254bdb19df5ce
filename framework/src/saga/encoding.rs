//! How a [`SagaEvent`] is stored: as an [`EventSet`], like any aggregate's events, with the
//! variant's name in the event type and its fields alone as the payload (schema version 2).
//!
//! Sagas recorded by earlier builds (schema version 1) kept serde's internally tagged form,
//! the name repeated in the payload (`{"type": "StepStarted", ..}`). Stored data lives for
//! years, so that form is still read, and a saga started by an older build recovers.
//!
//! Not for checking a stream (its type, its versions) nor for folding events into where a
//! saga stands: that is the executor's reading of a stream and `progress.rs`.

use serde::Deserialize;
use serde::de::Error as _;
use serde_json::{Map, Value};

use super::SagaEvent;
use crate::event::{DecodeError, EventSet, StoredPayload, to_payload};

/// The schema version saga events are stored at: their fields, without their name.
const FIELDS_ONLY: u32 = 2;
/// The schema version of saga events stored by earlier builds: serde's tagged form.
const TAGGED: u32 = 1;
/// The key of the variant's name in the tagged form.
const TAG: &str = "type";

impl EventSet for SagaEvent {
    const EVENT_TYPES: &'static [&'static str] = &[
        "SagaStarted",
        "StepStarted",
        "StepCompleted",
        "StepFailed",
        "StepTimedOut",
        "CompensationStarted",
        "StepCompensated",
        "CompensationFailed",
        "CompensationGaveUp",
        "SagaRetried",
        "SagaCompleted",
        "SagaCompensated",
        "SagaFailed",
    ];

    fn event_type(&self) -> &'static str {
        SagaEvent::event_type(self)
    }

    fn event_version(&self) -> u32 {
        FIELDS_ONLY
    }

    fn encode(&self) -> Result<Value, serde_json::Error> {
        let mut payload = to_payload(self)?;
        // serde writes the tagged form; the name belongs in the event type, not twice.
        if let Value::Object(fields) = &mut payload {
            fields.remove(TAG);
        }
        Ok(payload)
    }

    fn decode<'a>(
        event_type: &str,
        event_version: u32,
        payload: impl Into<StoredPayload<'a>>,
    ) -> Result<Self, DecodeError> {
        if !Self::EVENT_TYPES.contains(&event_type) {
            return Err(DecodeError::UnknownEventType {
                event_type: event_type.to_owned(),
            });
        }
        let payload_error = |source| DecodeError::Payload {
            event_type: event_type.to_owned(),
            source,
        };
        // Both forms are read as a `Value`: the tagged form is checked against the stored
        // name, and the fields-only form gets the name put back in.
        let parsed: Value;
        let payload = match payload.into() {
            StoredPayload::Value(value) => value,
            StoredPayload::Json(json) => {
                parsed = serde_json::from_str(json).map_err(payload_error)?;
                &parsed
            }
        };
        let decoded = match event_version {
            FIELDS_ONLY => decode_fields(event_type, payload),
            TAGGED => decode_tagged(event_type, payload),
            stored => {
                return Err(DecodeError::UnsupportedVersion {
                    event_type: event_type.to_owned(),
                    stored,
                    known: FIELDS_ONLY,
                });
            }
        };
        decoded.map_err(payload_error)
    }
}

/// Reads a payload of fields stored under `event_type`.
fn decode_fields(event_type: &str, payload: &Value) -> Result<SagaEvent, serde_json::Error> {
    let Value::Object(fields) = payload else {
        return Err(serde_json::Error::custom(format_args!(
            "expected an object of the event's fields, found `{payload}`"
        )));
    };
    // serde reads a variant of an internally tagged enum from its tagged form only, so the
    // name is put back in (last: the stored event type decides, whatever the payload holds).
    // Saga events are few and small; the copy is cheap next to the read.
    let mut tagged: Map<String, Value> = fields.clone();
    tagged.insert(TAG.to_owned(), Value::String(event_type.to_owned()));
    SagaEvent::deserialize(Value::Object(tagged))
}

/// Reads a payload in the tagged form of earlier builds, whose name must be the stored one.
fn decode_tagged(event_type: &str, payload: &Value) -> Result<SagaEvent, serde_json::Error> {
    let event = SagaEvent::deserialize(payload)?;
    if event.event_type() != event_type {
        return Err(serde_json::Error::custom(format_args!(
            "stored as `{event_type}` but the payload is a `{}`",
            event.event_type()
        )));
    }
    Ok(event)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn every_kind() -> Vec<SagaEvent> {
        let data = Some(json!({"n": 1}));
        vec![
            SagaEvent::SagaStarted {
                saga_id: "s".into(),
                data: json!({}),
                correlation_id: None,
            },
            SagaEvent::StepStarted {
                step: "a".into(),
                index: 0,
                attempt: 1,
            },
            SagaEvent::StepCompleted {
                step: "a".into(),
                index: 0,
                data: data.clone(),
            },
            SagaEvent::StepFailed {
                step: "a".into(),
                index: 0,
                attempt: 1,
                error: "no".into(),
                data: None,
            },
            SagaEvent::StepTimedOut {
                step: "a".into(),
                index: 0,
                attempt: 2,
                timeout_ms: 5,
                data: None,
            },
            SagaEvent::CompensationStarted {
                failed_step: "a".into(),
                error: "no".into(),
            },
            SagaEvent::StepCompensated {
                step: "a".into(),
                index: 0,
                data,
            },
            SagaEvent::CompensationFailed {
                step: "a".into(),
                index: 0,
                attempt: 1,
                error: "no".into(),
                data: None,
            },
            SagaEvent::CompensationGaveUp {
                step: "a".into(),
                index: 0,
                attempts: 3,
                error: "no".into(),
            },
            SagaEvent::SagaRetried,
            SagaEvent::SagaCompleted,
            SagaEvent::SagaCompensated,
            SagaEvent::SagaFailed {
                reason: "why".into(),
            },
        ]
    }

    #[test]
    fn a_saga_started_with_a_correlation_keeps_it_and_one_stored_without_reads_none()
    -> Result<(), Box<dyn std::error::Error>> {
        let correlated = SagaEvent::SagaStarted {
            saga_id: "s".into(),
            data: json!({}),
            correlation_id: Some(uuid::Uuid::from_u128(7)),
        };
        let payload = EventSet::encode(&correlated)?;
        assert_eq!(
            SagaEvent::decode("SagaStarted", FIELDS_ONLY, &payload)?,
            correlated
        );
        let before_correlations = json!({ "saga_id": "s", "data": {} });
        assert_eq!(
            SagaEvent::decode("SagaStarted", FIELDS_ONLY, &before_correlations)?,
            SagaEvent::SagaStarted {
                saga_id: "s".into(),
                data: json!({}),
                correlation_id: None,
            }
        );
        Ok(())
    }

    #[test]
    fn every_kind_is_listed_and_round_trips_without_its_name_in_the_payload()
    -> Result<(), Box<dyn std::error::Error>> {
        let events = every_kind();
        let names: Vec<&str> = events.iter().map(SagaEvent::event_type).collect();
        assert_eq!(names, SagaEvent::EVENT_TYPES);
        for event in events {
            let payload = EventSet::encode(&event)?;
            assert!(payload.get(TAG).is_none(), "{payload}");
            let name = event.event_type();
            assert_eq!(SagaEvent::decode(name, FIELDS_ONLY, &payload)?, event);
            let text = payload.to_string();
            assert_eq!(SagaEvent::decode(name, FIELDS_ONLY, text.as_str())?, event);
        }
        Ok(())
    }

    #[test]
    fn the_tagged_form_of_earlier_builds_is_read() -> Result<(), Box<dyn std::error::Error>> {
        for event in every_kind() {
            let tagged = serde_json::to_value(&event)?;
            assert_eq!(
                SagaEvent::decode(event.event_type(), TAGGED, &tagged)?,
                event
            );
        }
        let started = serde_json::to_value(SagaEvent::SagaCompleted)?;
        let mismatch = SagaEvent::decode("SagaFailed", TAGGED, &started);
        let names_both =
            |source: &serde_json::Error| source.to_string().contains("stored as `SagaFailed`");
        assert!(
            matches!(&mismatch, Err(DecodeError::Payload { source, .. }) if names_both(source)),
            "{mismatch:?}"
        );
        Ok(())
    }

    #[test]
    fn unknown_names_and_versions_are_refused() {
        let unknown = SagaEvent::decode("StepSkipped", FIELDS_ONLY, &json!({}));
        assert!(matches!(unknown, Err(DecodeError::UnknownEventType { .. })));
        let newer = SagaEvent::decode("SagaCompleted", 3, &json!({}));
        assert!(matches!(
            newer,
            Err(DecodeError::UnsupportedVersion { stored: 3, .. })
        ));
        let not_fields = SagaEvent::decode("SagaCompleted", FIELDS_ONLY, &json!([1]));
        assert!(matches!(not_fields, Err(DecodeError::Payload { .. })));
    }
}
