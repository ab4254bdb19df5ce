//! The payload encoders against serde_json's own, and their refusals.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::{Payload, to_payload};

#[derive(Serialize)]
struct Reading {
    celsius: f64,
    history: Vec<f32>,
    latest: Option<f64>,
    by_sensor: BTreeMap<String, (u8, f64)>,
    kind: Kind,
}

#[derive(Serialize)]
enum Kind {
    Struct { ratio: f64 },
    Tuple(u8, f64),
    Newtype(f64),
}

fn reading() -> Reading {
    Reading {
        celsius: 21.5,
        history: vec![1.0, -0.0],
        latest: Some(f64::MAX),
        by_sensor: BTreeMap::from([("a".to_owned(), (1, f64::MIN_POSITIVE))]),
        kind: Kind::Struct { ratio: 0.1 },
    }
}

#[test]
fn finite_values_serialize_as_serde_json_does() -> Result<(), serde_json::Error> {
    let value = reading();
    assert_eq!(to_payload(&value)?, serde_json::to_value(&value)?);
    assert_eq!(
        Payload::encode(&value)?.as_str(),
        serde_json::to_string(&value)?
    );
    assert_eq!(
        Payload::encode(&value)?.to_value()?,
        serde_json::to_value(&value)?
    );
    assert_eq!(
        to_payload(&Kind::Tuple(1, 2.5))?,
        json!({"Tuple": [1, 2.5]})
    );
    Ok(())
}

#[test]
fn a_non_finite_float_anywhere_is_refused() {
    let mut cases = Vec::new();
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        cases.push(Reading {
            celsius: bad,
            ..reading()
        });
        cases.push(Reading {
            latest: Some(bad),
            ..reading()
        });
        cases.push(Reading {
            by_sensor: BTreeMap::from([("a".to_owned(), (1, bad))]),
            ..reading()
        });
        cases.push(Reading {
            kind: Kind::Struct { ratio: bad },
            ..reading()
        });
        cases.push(Reading {
            kind: Kind::Tuple(0, bad),
            ..reading()
        });
        cases.push(Reading {
            kind: Kind::Newtype(bad),
            ..reading()
        });
    }
    cases.push(Reading {
        history: vec![1.0, f32::NAN],
        ..reading()
    });
    for case in &cases {
        for error in [
            to_payload(case).err().map(|error| error.to_string()),
            Payload::encode(case).err().map(|error| error.to_string()),
        ] {
            assert!(
                error
                    .as_deref()
                    .is_some_and(|e| e.contains("JSON has no NaN")),
                "{error:?}"
            );
        }
    }
}

#[test]
fn integers_beyond_64_bits_are_refused() -> Result<(), serde_json::Error> {
    assert_eq!(
        Payload::encode(&u128::from(u64::MAX))?.as_str(),
        "18446744073709551615"
    );
    assert_eq!(
        Payload::encode(&i128::from(i64::MIN))?.as_str(),
        "-9223372036854775808"
    );
    for error in [
        Payload::encode(&(u128::from(u64::MAX) + 1)).err(),
        Payload::encode(&(i128::from(i64::MIN) - 1)).err(),
        to_payload(&[u128::MAX]).err(),
    ] {
        let error = error.map(|error| error.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.contains("64 bits")),
            "{error:?}"
        );
    }
    Ok(())
}

#[test]
fn text_is_checked_and_values_convert() -> Result<(), serde_json::Error> {
    let payload = Payload::from_json(" {\"a\": [1, 2.5]} ")?;
    assert_eq!(payload.to_value()?, json!({"a": [1, 2.5]}));
    assert!(Payload::from_json("{\"a\": ").is_err());
    assert!(Payload::from_json("1 2").is_err());
    let value = json!({"b": "é\n", "a": null});
    assert_eq!(Payload::from(&value).to_value()?, value);
    Ok(())
}
