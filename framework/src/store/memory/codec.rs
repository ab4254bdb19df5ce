//! A compact binary encoding of [`serde_json::Value`], for the payloads the in-memory store
//! keeps.
//!
//! Why not JSON text: a `Value` must come back exactly as it was appended, and JSON text does
//! not guarantee that. serde_json parses floats with a fast algorithm that may be one ulp off
//! (unless its `float_roundtrip` feature is on), and refuses to parse values nested more than
//! 128 deep, which a `Value` built in code can be. This encoding stores floats as their bits
//! and nests as deep as the value does. It is also smaller (no quotes, no escapes, small
//! integers and short strings in one byte plus their bytes) and quicker to decode.
//!
//! Layout: one tag byte per value, then its body. Lengths and integers are LEB128 varints.
//! Object entries are written in the map's iteration order and read back in that order, so
//! the rebuilt map is the same whether serde_json keeps keys sorted or in insertion order.
//!
//! Appended payloads arrive as JSON text and are encoded straight from it
//! ([`encode_json`], in `transcode.rs`), to the bytes `encode` writes for the parsed value.

use std::fmt;

use serde_json::{Map, Number, Value};

mod transcode;

pub(super) use transcode::encode_json;

const NULL: u8 = 0x00;
const FALSE: u8 = 0x01;
const TRUE: u8 = 0x02;
/// A `u64`, as a varint.
const UINT: u8 = 0x03;
/// A negative `i64` `n`, as the varint of `!n` (which is `-n - 1`, never negative).
const NEG_INT: u8 = 0x04;
/// An `f64`, as its 8 bytes, little-endian.
const FLOAT: u8 = 0x05;
/// A string: varint length, then UTF-8 bytes.
const STRING: u8 = 0x06;
/// An array: varint count, then the items.
const ARRAY: u8 = 0x07;
/// An object: varint count, then per entry the key (varint length, bytes) and the value.
const OBJECT: u8 = 0x08;
/// A number that is none of the above exactly (only with serde_json's `arbitrary_precision`):
/// its decimal text, as a string is stored.
const NUMBER_TEXT: u8 = 0x09;
/// `SHORT_STRING | len`: a string of fewer than 64 bytes, its length in the tag.
const SHORT_STRING: u8 = 0x40;
/// `SMALL_UINT | n`: an integer below 128, in the tag alone.
const SMALL_UINT: u8 = 0x80;

/// Appends the encoding of `value` to `out`. The store encodes appended JSON text with
/// [`encode_json`], which must write the same bytes as this does for the parsed `Value`; this
/// is the reference its tests hold it to.
#[cfg(test)]
pub(super) fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(number) => encode_number(number, out),
        Value::String(text) => encode_string(text, out),
        Value::Array(items) => {
            out.push(ARRAY);
            put_varint(items.len() as u64, out);
            for item in items {
                encode(item, out);
            }
        }
        Value::Object(entries) => {
            out.push(OBJECT);
            put_varint(entries.len() as u64, out);
            for (key, item) in entries {
                put_bytes(key.as_bytes(), out);
                encode(item, out);
            }
        }
    }
}

fn encode_number(number: &Number, out: &mut Vec<u8>) {
    // Each compact form is used only when it rebuilds an equal `Number`, which is always the
    // case unless `arbitrary_precision` keeps numbers as text ("1.50", "1e400"); those are
    // stored as their text.
    if let Some(n) = number.as_u64().filter(|&n| Number::from(n) == *number) {
        match u8::try_from(n) {
            Ok(small) if small < SMALL_UINT => out.push(SMALL_UINT | small),
            _ => {
                out.push(UINT);
                put_varint(n, out);
            }
        }
    } else if let Some(n) = number
        .as_i64()
        .filter(|&n| n < 0 && Number::from(n) == *number)
    {
        out.push(NEG_INT);
        put_varint(!n as u64, out);
    } else if let Some(x) = number
        .as_f64()
        .filter(|&x| Number::from_f64(x).as_ref() == Some(number))
    {
        out.push(FLOAT);
        out.extend_from_slice(&x.to_bits().to_le_bytes());
    } else {
        out.push(NUMBER_TEXT);
        put_bytes(number.to_string().as_bytes(), out);
    }
}

fn encode_string(text: &str, out: &mut Vec<u8>) {
    match u8::try_from(text.len()) {
        Ok(len) if len < SHORT_STRING => {
            out.push(SHORT_STRING | len);
            out.extend_from_slice(text.as_bytes());
        }
        _ => {
            out.push(STRING);
            put_bytes(text.as_bytes(), out);
        }
    }
}

fn put_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    put_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn put_varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        // Truncation intended: the low 7 bits, with the continuation bit set.
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Decodes bytes written by [`encode`], all of them.
pub(super) fn decode(bytes: &[u8]) -> Result<Value, CodecError> {
    let mut reader = Reader { bytes };
    let value = reader.value()?;
    if reader.bytes.is_empty() {
        Ok(value)
    } else {
        Err(CodecError("trailing bytes after the value"))
    }
}

/// Why stored bytes do not decode. The store writes every payload itself, so this means a bug
/// or memory corruption, never bad input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CodecError(&'static str);

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stored payload does not decode: {}", self.0)
    }
}

impl std::error::Error for CodecError {}

/// The bytes not read yet. Every read is bounds-checked: bad bytes give an error, not a panic.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn value(&mut self) -> Result<Value, CodecError> {
        let tag = self.byte()?;
        Ok(match tag {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            UINT => Value::from(self.varint()?),
            NEG_INT => {
                let n = i64::try_from(self.varint()?)
                    .map_err(|_| CodecError("negative integer out of range"))?;
                Value::from(!n)
            }
            FLOAT => {
                let bits = self
                    .take(8)?
                    .try_into()
                    .map_err(|_| CodecError("truncated float"))?;
                Number::from_f64(f64::from_bits(u64::from_le_bytes(bits)))
                    .map(Value::Number)
                    .ok_or(CodecError("float is not finite"))?
            }
            STRING => Value::String(self.string()?),
            ARRAY => {
                let count = self.count()?;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.value()?);
                }
                Value::Array(items)
            }
            OBJECT => {
                let count = self.count()?;
                let mut entries = Map::with_capacity(count);
                for _ in 0..count {
                    let key = self.string()?;
                    entries.insert(key, self.value()?);
                }
                Value::Object(entries)
            }
            NUMBER_TEXT => {
                let text = self.string()?;
                Value::Number(
                    text.parse()
                        .map_err(|_| CodecError("number text does not parse"))?,
                )
            }
            _ if tag & SMALL_UINT != 0 => Value::from(tag & !SMALL_UINT),
            _ if tag & SHORT_STRING != 0 => {
                Value::String(self.utf8(usize::from(tag & !SHORT_STRING))?)
            }
            _ => return Err(CodecError("unknown tag")),
        })
    }

    fn byte(&mut self) -> Result<u8, CodecError> {
        let (&first, rest) = self.bytes.split_first().ok_or(CodecError("truncated"))?;
        self.bytes = rest;
        Ok(first)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], CodecError> {
        let taken = self
            .bytes
            .split_at_checked(len)
            .map(|(taken, rest)| {
                self.bytes = rest;
                taken
            })
            .ok_or(CodecError("truncated"))?;
        Ok(taken)
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(CodecError("varint too long"))
    }

    /// A length or item count. Every item takes at least one byte, so a count larger than the
    /// bytes left is corrupt; checking it keeps a bad count from reserving huge capacity.
    fn count(&mut self) -> Result<usize, CodecError> {
        usize::try_from(self.varint()?)
            .ok()
            .filter(|&count| count <= self.bytes.len())
            .ok_or(CodecError("length exceeds the bytes left"))
    }

    fn string(&mut self) -> Result<String, CodecError> {
        let len = self.count()?;
        self.utf8(len)
    }

    fn utf8(&mut self, len: usize) -> Result<String, CodecError> {
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| CodecError("string is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn round_trip(value: &Value) -> Result<Value, CodecError> {
        let mut bytes = Vec::new();
        encode(value, &mut bytes);
        decode(&bytes)
    }

    #[test]
    fn values_round_trip_exactly() -> Result<(), CodecError> {
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
            json!(f64::MIN_POSITIVE),
            json!(5e-324),
            json!(""),
            json!("é ✓ \"quoted\" \\ \n"),
            json!("x".repeat(63)),
            json!("x".repeat(64)),
            json!("x".repeat(100_000)),
            json!([]),
            json!({}),
            json!({"amount": 100, "balance": 200, "nested": {"list": [1, -2, 3.5, null, "s"]}}),
        ];
        for value in &values {
            let back = round_trip(value)?;
            assert_eq!(&back, value);
            // Same representation, not only equal: a float stays a float, -0.0 keeps its sign.
            assert_eq!(back.to_string(), value.to_string());
        }
        Ok(())
    }

    #[test]
    fn deep_nesting_round_trips() -> Result<(), CodecError> {
        // Deeper than serde_json's parser accepts (128), which JSON text would not survive.
        let mut value = json!(1);
        for _ in 0..1000 {
            value = json!([value]);
        }
        assert_eq!(round_trip(&value)?, value);
        Ok(())
    }

    #[test]
    fn small_payload_is_compact() {
        let mut bytes = Vec::new();
        encode(&json!({"amount": 100, "balance": 200}), &mut bytes);
        assert_eq!(bytes.len(), 21);
    }

    #[test]
    fn bad_bytes_are_errors() {
        for bytes in [
            &[][..],
            &[ARRAY, 5, NULL],
            &[STRING, 2, 0xff, 0xfe],
            &[FLOAT, 0, 0],
            &[
                UINT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
            &[NULL, NULL],
            &[0x3f],
        ] {
            assert!(decode(bytes).is_err(), "{bytes:?} decoded");
        }
    }
}
