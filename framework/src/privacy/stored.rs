//! The stored form of a protected value: one JSON string, versioned and self-describing.
//!
//! ```text
//! agg:v1:<generation>:<base64url(nonce || ciphertext || tag)>     a sealed value
//! agg:redacted                                                     a value whose subject was forgotten
//! ```
//!
//! Why a string and not an object: a string fits wherever the plain value stood (a JSON
//! field of any type, a `jsonb` column, a message body), costs the fewest bytes (for a short
//! name, 12 bytes of nonce, 16 of tag, the base64 and a 10-byte header), and is read without
//! allocation-heavy parsing. It is told apart from plaintext by its grammar: the `agg:`
//! prefix, a version `v<digits>`, a decimal key generation and unpadded URL-safe base64 of
//! at least a nonce and a tag. A marked field is always written in this form, so a plain
//! value found there is an error ([`PrivacyError::NotSealed`](super::PrivacyError::NotSealed)), never taken for data; and
//! even a plain string of exactly this shape fails authentication rather than decrypting.
//!
//! The generation names the subject's data key (a subject gets a new generation only when
//! it is re-registered after a `forget`). Which master key wraps that data key is not part
//! of the value: rotating the master key re-wraps the data keys and never touches stored
//! values.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::cipher::{NONCE_LEN, TAG_LEN};

/// The prefix of every stored form aggregato writes for a protected field.
pub const PREFIX: &str = "agg:";
/// The stored form of a redacted value (see [`Protected::Redacted`](super::Protected)).
pub const REDACTED: &str = "agg:redacted";
/// The format version this build writes.
pub(crate) const VERSION: u32 = 1;

/// What a stored string is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StoredForm {
    /// A sealed value of this build's format.
    Sealed {
        /// The data key's generation.
        generation: u32,
        /// `nonce || ciphertext || tag`.
        bytes: Vec<u8>,
    },
    /// The redaction marker.
    Redacted,
    /// A sealed value of another format version.
    Unsupported(u32),
    /// Starts like a sealed value but does not parse.
    Malformed(&'static str),
    /// Not aggregato's: a plain value.
    Plain,
}

/// `agg:v1:<generation>:<base64>` of `bytes` (`nonce || ciphertext || tag`).
pub(crate) fn format_sealed(generation: u32, bytes: &[u8]) -> String {
    let mut out = String::with_capacity(16 + bytes.len().div_ceil(3) * 4);
    out.push_str(PREFIX);
    out.push('v');
    out.push_str(&VERSION.to_string());
    out.push(':');
    out.push_str(&generation.to_string());
    out.push(':');
    URL_SAFE_NO_PAD.encode_string(bytes, &mut out);
    out
}

/// Reads a stored string.
pub(crate) fn parse(text: &str) -> StoredForm {
    if text == REDACTED {
        return StoredForm::Redacted;
    }
    let Some(rest) = text.strip_prefix("agg:v") else {
        return StoredForm::Plain;
    };
    let Some((version, rest)) = rest.split_once(':') else {
        return StoredForm::Plain;
    };
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return StoredForm::Plain;
    }
    let Ok(version) = version.parse::<u32>() else {
        return StoredForm::Malformed("the format version is out of range");
    };
    if version != VERSION {
        return StoredForm::Unsupported(version);
    }
    let Some((generation, body)) = rest.split_once(':') else {
        return StoredForm::Malformed("no key generation");
    };
    let Ok(generation) = generation.parse::<u32>() else {
        return StoredForm::Malformed("the key generation is not a number");
    };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(body) else {
        return StoredForm::Malformed("the body is not base64url");
    };
    if bytes.len() < NONCE_LEN + TAG_LEN {
        return StoredForm::Malformed("the body is too short for a nonce and a tag");
    }
    StoredForm::Sealed { generation, bytes }
}

/// Whether `value` is a stored form aggregato wrote (sealed, of any version, or redacted):
/// what a reader checks before treating a field as plain data.
pub fn is_stored_form(value: &serde_json::Value) -> bool {
    value
        .as_str()
        .is_some_and(|text| !matches!(parse(text), StoredForm::Plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tells_plain_values_apart() {
        let bytes = vec![7u8; NONCE_LEN + TAG_LEN + 3];
        let text = format_sealed(3, &bytes);
        assert!(text.starts_with("agg:v1:3:"));
        assert_eq!(
            parse(&text),
            StoredForm::Sealed {
                generation: 3,
                bytes
            }
        );
        assert_eq!(parse(REDACTED), StoredForm::Redacted);
        assert_eq!(parse("agg:v2:1:AAAA"), StoredForm::Unsupported(2));
        assert_eq!(parse("hello"), StoredForm::Plain);
        assert_eq!(parse("agg:vx:1"), StoredForm::Plain);
        assert_eq!(parse("agg:value"), StoredForm::Plain);
        assert!(matches!(parse("agg:v1:1:AAAA"), StoredForm::Malformed(_)));
        assert!(matches!(parse("agg:v1:x:AAAA"), StoredForm::Malformed(_)));
        assert!(matches!(parse("agg:v1:1:***"), StoredForm::Malformed(_)));
    }
}
