//! Encoding JSON text straight into the binary codec, for appended payloads: serde_json's
//! parser drives a visitor that writes each value as [`super::encode`] would write the
//! `Value` parsed from the same text, without building that `Value`.
//!
//! An array or object is written before its item count is known: one byte is kept for the
//! count and filled in at the end, and widened (the items moved up) only for 128 items or
//! more, where the varint needs more than one byte.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use super::{ARRAY, FALSE, NULL, OBJECT, TRUE, encode_number, encode_string, put_varint};

/// The key serde_json's `arbitrary_precision` feature hands a number over under (as a map of
/// one entry, its text the value). Without that feature no text parses to it.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Appends the encoding of the JSON value `json` to `out`, as [`super::encode`] appends that
/// of `serde_json::from_str(json)`. Text that is not one JSON value is an error, and leaves
/// `out` as it was.
pub(in crate::store::memory) fn encode_json(
    json: &str,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    let start = out.len();
    let mut parser = serde_json::Deserializer::from_str(json);
    let written = Writer(out)
        .deserialize(&mut parser)
        .and_then(|()| parser.end());
    if written.is_err() {
        out.truncate(start);
    }
    written
}

/// Writes one value, whatever it is, into the encoding.
struct Writer<'o>(&'o mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for Writer<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Writer<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.push(NULL);
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.0.push(if v { TRUE } else { FALSE });
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        encode_number(&Number::from(v), self.0);
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        encode_number(&Number::from(v), self.0);
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // The parser yields finite floats only; a `Value` could not hold another one either.
        let number = Number::from_f64(v).ok_or_else(|| E::custom("a non-finite number"))?;
        encode_number(&number, self.0);
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        encode_string(v, self.0);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let out = self.0;
        out.push(ARRAY);
        let count_at = out.len();
        out.push(0);
        let mut count = 0u64;
        while items.next_element_seed(Writer(out))?.is_some() {
            count += 1;
        }
        put_count(out, count_at, count);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        let out = self.0;
        let start = out.len();
        out.push(OBJECT);
        let count_at = out.len();
        out.push(0);
        let mut count = 0u64;
        while let Some(is_number) = entries.next_key_seed(Key(out))? {
            if is_number && count == 0 {
                // Not an object: a number in `arbitrary_precision`'s disguise.
                out.truncate(start);
                let text: String = entries.next_value()?;
                let number = text.parse::<Number>().map_err(de::Error::custom)?;
                encode_number(&number, out);
                return Ok(());
            }
            entries.next_value_seed(Writer(out))?;
            count += 1;
        }
        put_count(out, count_at, count);
        Ok(())
    }
}

/// Writes an object key (varint length, bytes); yields whether it is [`NUMBER_TOKEN`].
struct Key<'o>(&'o mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        put_varint(v.len() as u64, self.0);
        self.0.extend_from_slice(v.as_bytes());
        Ok(v == NUMBER_TOKEN)
    }
}

/// Fills in the one byte kept at `at` for an item count, widening it if the count's varint
/// takes more.
fn put_count(out: &mut Vec<u8>, at: usize, count: u64) {
    if let Some(slot) = out.get_mut(at)
        && let Ok(small) = u8::try_from(count)
        && small < 0x80
    {
        *slot = small;
        return;
    }
    let mut varint = Vec::with_capacity(10);
    put_varint(count, &mut varint);
    // `at` is the byte the caller pushed for the count, so the range is in bounds.
    out.splice(at..at + 1, varint);
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::encode_json;
    use crate::store::memory::codec::{decode, encode};

    #[test]
    fn text_encodes_as_its_value_does() -> Result<(), serde_json::Error> {
        let values = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(127),
            json!(128),
            json!(u64::MAX),
            json!(-1),
            json!(i64::MIN),
            json!(0.1),
            json!(-0.0),
            json!(1.0),
            json!(f64::MAX),
            json!(5e-324),
            json!(""),
            json!("é ✓ \"quoted\" \\ \n \u{1}"),
            json!("x".repeat(64)),
            json!([]),
            json!({}),
            json!((0..127).collect::<Vec<_>>()),
            json!((0..128).collect::<Vec<_>>()),
            json!((0..20_000).map(|n| json!({"n": n})).collect::<Vec<_>>()),
            json!({"amount": 100, "balance": 200, "nested": {"list": [1, -2, 3.5, null, "s"]}}),
            json!({"k\"ey": {"": [[], {}]}, "a": "b"}),
        ];
        for value in &values {
            let text = value.to_string();
            let mut from_value = Vec::new();
            encode(&serde_json::from_str::<Value>(&text)?, &mut from_value);
            let mut from_text = vec![0xAA];
            encode_json(&text, &mut from_text)?;
            assert_eq!(&from_text[1..], &from_value[..], "{text}");
            assert_eq!(decode(&from_text[1..]).ok().as_ref(), Some(value));
        }
        Ok(())
    }

    #[test]
    fn text_that_is_not_one_value_is_refused_and_writes_nothing() {
        for text in ["", "[1,", "{\"a\":}", "1 2", "nul", "{\"a\":1}x"] {
            let mut out = vec![7];
            assert!(encode_json(text, &mut out).is_err(), "{text:?}");
            assert_eq!(out, [7]);
        }
    }
}
