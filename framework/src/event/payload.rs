//! Turning a value into a stored JSON payload, refusing what JSON cannot hold.
//!
//! `serde_json::to_value` writes a non-finite float (`NaN`, an infinity) as `null`, so an event
//! holding one would be stored as something it is not, and then fail every load of its stream
//! (or, inside an `Option`, come back as `None`). [`to_payload`] serializes through a wrapper
//! that refuses such a float with an error naming it, before anything is stored. Everything
//! else is passed straight to `serde_json`'s own value serializer.

use serde::ser::{
    self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant,
    SerializeTuple, SerializeTupleStruct, SerializeTupleVariant, Serializer,
};

/// Serializes `value` into the JSON payload a store keeps, as `serde_json::to_value` does,
/// except that a non-finite float (`NaN`, `inf`, `-inf`) is an error rather than a silent
/// `null`: JSON has no such numbers, so they could not be read back.
///
/// ```
/// use aggregato::event::to_payload;
///
/// assert_eq!(to_payload(&[1.5_f64, -0.0])?, serde_json::json!([1.5, -0.0]));
/// assert!(to_payload(&Some(f64::NAN)).is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn to_payload<T: Serialize + ?Sized>(
    value: &T,
) -> Result<serde_json::Value, serde_json::Error> {
    value.serialize(Finite(serde_json::value::Serializer))
}

/// A serializer (or one of its compound parts) that refuses non-finite floats and otherwise
/// forwards to the one it wraps.
struct Finite<S>(S);

/// A value whose serialization goes through [`Finite`], so nested values are checked too.
struct Checked<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Checked<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Finite(serializer))
    }
}

fn non_finite<E: ser::Error>(value: impl std::fmt::Display) -> E {
    E::custom(format_args!(
        "the float `{value}` cannot be stored: JSON has no NaN or infinity, so it would come \
         back as `null`; keep such values out of events and snapshots (an `Option` or an enum \
         says what they mean)"
    ))
}

impl<S: Serializer> Serializer for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Finite<S::SerializeSeq>;
    type SerializeTuple = Finite<S::SerializeTuple>;
    type SerializeTupleStruct = Finite<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Finite<S::SerializeTupleVariant>;
    type SerializeMap = Finite<S::SerializeMap>;
    type SerializeStruct = Finite<S::SerializeStruct>;
    type SerializeStructVariant = Finite<S::SerializeStructVariant>;

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        if !v.is_finite() {
            return Err(non_finite(v));
        }
        self.0.serialize_f32(v)
    }

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        if !v.is_finite() {
            return Err(non_finite(v));
        }
        self.0.serialize_f64(v)
    }

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.0.serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.0.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.0.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.0.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        self.0.serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        self.0.serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.0.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.0.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.0.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        self.0.serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        self.0.serialize_u128(v)
    }
    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.0.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        self.0.serialize_str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        self.0.serialize_bytes(v)
    }
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Checked(value))
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Checked(value))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Checked(value))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Finite)
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Finite)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Finite)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(Finite)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Finite)
    }
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Finite)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(Finite)
    }
    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// The compound parts whose elements are plain values: each element goes through
/// [`Checked`], everything else is forwarded.
macro_rules! forward_elements {
    ($($part:ident :: $method:ident),* $(,)?) => {$(
        impl<S: $part> $part for Finite<S> {
            type Ok = S::Ok;
            type Error = S::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
                self.0.$method(&Checked(value))
            }
            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    )*};
}

forward_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

/// The compound parts whose elements are named fields.
macro_rules! forward_fields {
    ($($part:ident),* $(,)?) => {$(
        impl<S: $part> $part for Finite<S> {
            type Ok = S::Ok;
            type Error = S::Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), S::Error> {
                self.0.serialize_field(key, &Checked(value))
            }
            fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
                self.0.skip_field(key)
            }
            fn end(self) -> Result<S::Ok, S::Error> {
                self.0.end()
            }
        }
    )*};
}

forward_fields!(SerializeStruct, SerializeStructVariant);

impl<S: SerializeMap> SerializeMap for Finite<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        self.0.serialize_key(&Checked(key))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&Checked(value))
    }
    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::to_payload;

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
            let error = to_payload(case).err().map(|error| error.to_string());
            assert!(
                error
                    .as_deref()
                    .is_some_and(|e| e.contains("JSON has no NaN")),
                "{error:?}"
            );
        }
    }
}
