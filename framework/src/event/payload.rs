//! Turning a value into a stored JSON payload, refusing what JSON cannot hold.
//!
//! `serde_json` writes a non-finite float (`NaN`, an infinity) as `null`, so an event holding
//! one would be stored as something it is not, and then fail every load of its stream (or,
//! inside an `Option`, come back as `None`). [`Payload::encode`] (JSON text, what an append
//! carries) and [`to_payload`] (a `Value`, for snapshots and saga data) serialize through a
//! wrapper that refuses such a float with an error naming it, before anything is stored, and
//! likewise an integer beyond 64 bits, which a JSON reader would read back as a float.
//! Everything else is passed straight to `serde_json`'s own serializers.

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

/// An event's payload, encoded for appending: JSON text, always valid JSON, serialized once
/// straight from the typed event (see [`Payload::encode`]).
///
/// Stores keep it as given: the SQL stores bind the text, the in-memory store transcodes it
/// into its own encoding. For events built by hand (tests, store implementations), a
/// `serde_json::Value` converts into it:
///
/// ```
/// use aggregato::event::Payload;
///
/// let payload = Payload::from(serde_json::json!({"amount": 100}));
/// assert_eq!(payload.as_str(), r#"{"amount":100}"#);
/// assert_eq!(payload.to_value()?, serde_json::json!({"amount": 100}));
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// A newtype over the text rather than a `Box<serde_json::value::RawValue>`: every way of
/// making one writes JSON through `serde_json`, so the text needs no second parse to be
/// trusted, and a `Value` converts without an error to handle.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Payload(String);

impl Payload {
    /// Serializes `value` to JSON text, refusing a non-finite float (`NaN`, `inf`, `-inf`) or
    /// an integer beyond 64 bits anywhere in it: JSON readers could not give them back.
    ///
    /// ```
    /// use aggregato::event::Payload;
    ///
    /// assert_eq!(Payload::encode(&[1.5_f64, -0.0])?.as_str(), "[1.5,-0.0]");
    /// assert!(Payload::encode(&Some(f64::NAN)).is_err());
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        // Kept as the serializer leaves it: shrinking it to a boxed `str` would reallocate.
        serde_json::to_string(&Checked(value)).map(Self)
    }

    /// Checks that `text` is one JSON value and takes it as a payload, as written (a store
    /// implementation handing over text it holds, say).
    pub fn from_json(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        let text = text.into();
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        Ok(Self(text))
    }

    /// Takes `text` a store read back as a payload without parsing it again: the stores only
    /// ever hold text that was checked on the way in.
    pub(crate) fn trusted(text: String) -> Self {
        Self(text)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The payload parsed as a `serde_json::Value`.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

impl From<serde_json::Value> for Payload {
    fn from(value: serde_json::Value) -> Self {
        Self::from(&value)
    }
}

impl From<&serde_json::Value> for Payload {
    /// A `Value` holds no non-finite float, so its text is a payload as it is.
    fn from(value: &serde_json::Value) -> Self {
        Self(value.to_string())
    }
}

impl AsRef<str> for Payload {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The JSON itself reads better than a quoted, escaped string.
        write!(f, "Payload({})", self.0)
    }
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

fn too_wide<E: ser::Error>(value: impl std::fmt::Display) -> E {
    E::custom(format_args!(
        "the integer `{value}` cannot be stored: it does not fit in 64 bits, so a JSON reader \
         would read it back as an approximate float; store it as a string"
    ))
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
        // Within 64 bits serde_json writes it as it does an `i64`/`u64`; beyond, its value
        // serializer refuses it and its text serializer writes digits nobody reads back.
        if i64::try_from(v).is_err() && u64::try_from(v).is_err() {
            return Err(too_wide(v));
        }
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
        if u64::try_from(v).is_err() {
            return Err(too_wide(v));
        }
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
mod tests;
