//! [`FieldContext`]: where a protected value sits, and the associated data that binds its
//! ciphertext there.
//!
//! AES-GCM authenticates the associated data with the ciphertext, so a value sealed for one
//! place fails to open anywhere else: in another field, event, stream, tenant or subject, or
//! under another key generation. The associated data is never stored; both sides rebuild it.

use uuid::Uuid;

use super::Subject;

/// The place a protected value is written to and read from: the stream, the event (or other
/// record) id and the field's name (a path, for nested fields: `"address.street"`). The
/// generated encoding builds one per marked field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldContext<'a> {
    /// The stream the record belongs to.
    pub stream: &'a str,
    /// The event's id (or, for a snapshot or read-model row, an id of that record).
    pub event_id: Uuid,
    /// The field's name or path.
    pub field: &'a str,
}

impl<'a> FieldContext<'a> {
    /// The field `field` of event `event_id` in `stream`.
    pub fn new(stream: &'a str, event_id: Uuid, field: &'a str) -> Self {
        Self {
            stream,
            event_id,
            field,
        }
    }
}

/// Names this encoding, so associated data of a later layout never equals this one's.
const FIELD_DOMAIN: &[u8] = b"aggregato/field/v1";

/// The associated data of a value sealed for `subject` at `place` under key `generation`.
/// Every variable-length part is length-prefixed, so no two different bindings encode to
/// the same bytes (`("ab", "c")` and `("a", "bc")` differ).
pub(crate) fn field_binding(
    subject: &Subject,
    place: &FieldContext<'_>,
    generation: u32,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        FIELD_DOMAIN.len()
            + 4 * 5
            + subject.tenant().len()
            + subject.id().len()
            + place.stream.len()
            + place.field.len()
            + 16
            + 4,
    );
    put(&mut out, FIELD_DOMAIN);
    put(&mut out, subject.tenant().as_bytes());
    put(&mut out, subject.id().as_bytes());
    put(&mut out, place.stream.as_bytes());
    put(&mut out, place.field.as_bytes());
    out.extend_from_slice(place.event_id.as_bytes());
    out.extend_from_slice(&generation.to_be_bytes());
    out
}

/// Names the key-wrapping encoding.
const KEY_DOMAIN: &[u8] = b"aggregato/data-key/v1";

/// The associated data of a data key wrapped under a master key: the subject and the key's
/// generation, so a wrapped key copied to another subject's row does not unwrap.
pub(crate) fn key_binding(subject: &Subject, generation: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(KEY_DOMAIN.len() + 12 + subject.id().len() + 4);
    put(&mut out, KEY_DOMAIN);
    put(&mut out, subject.tenant().as_bytes());
    put(&mut out, subject.id().as_bytes());
    out.extend_from_slice(&generation.to_be_bytes());
    out
}

/// Appends `bytes` with its length in front. Lengths past `u32::MAX` are clamped, which
/// cannot create an ambiguity in practice: such a part would not fit in a stored event.
fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_unambiguous() {
        let id = Uuid::nil();
        let a = field_binding(&Subject::new("ab"), &FieldContext::new("c", id, "f"), 1);
        let b = field_binding(&Subject::new("a"), &FieldContext::new("bc", id, "f"), 1);
        assert_ne!(a, b);
        let c = field_binding(
            &Subject::in_tenant("t", "x"),
            &FieldContext::new("s", id, "f"),
            1,
        );
        let d = field_binding(
            &Subject::in_tenant("", "tx"),
            &FieldContext::new("s", id, "f"),
            1,
        );
        assert_ne!(c, d);
    }
}
