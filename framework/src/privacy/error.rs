//! Why protecting or reading a field failed, and why a key store refused.

use uuid::Uuid;

use super::Subject;

/// Any error a backend (a database, a KMS) returns, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every way encrypting or decrypting a protected field, or managing a subject's keys, can
/// fail. A forgotten subject is not an error: decryption then yields
/// [`Protected::Redacted`](super::Protected::Redacted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrivacyError {
    /// The subject was forgotten, and a write would create data for it again. Re-register the
    /// subject first ([`KeyStore::re_register`](super::KeyStore::re_register)) if the
    /// application has a new legal basis to hold its data.
    #[error(
        "subject {subject} was forgotten: writing its data is refused until it is re-registered"
    )]
    SubjectErased {
        /// The subject.
        subject: Subject,
    },
    /// The stored value does not authenticate under the subject's key and this field's
    /// binding: it was altered, or moved from another field, event, stream, tenant or subject.
    #[error(
        "field `{field}` of event {event_id} in stream `{stream}` (subject {subject}) does not decrypt: the value was altered or belongs to another field, event, stream or subject"
    )]
    Tampered {
        /// The subject named for the field.
        subject: Subject,
        /// The stream.
        stream: String,
        /// The event.
        event_id: Uuid,
        /// The field.
        field: String,
    },
    /// The stored value starts like aggregato's sealed form but does not parse.
    #[error("field `{field}` of event {event_id}: malformed sealed value: {reason}")]
    Malformed {
        /// The field.
        field: String,
        /// The event.
        event_id: Uuid,
        /// What is wrong with it.
        reason: String,
    },
    /// The stored value is a sealed form of a version this build does not know (written by a
    /// newer aggregato).
    #[error(
        "field `{field}` of event {event_id} is sealed in format v{version}, which this version of aggregato cannot read"
    )]
    UnsupportedFormat {
        /// The field.
        field: String,
        /// The event.
        event_id: Uuid,
        /// The format version found.
        version: u32,
    },
    /// A protected field holds a plain value: it was stored without encryption. Refused, so
    /// that plaintext is never passed off as protected data (and never survives a `forget`).
    #[error(
        "field `{field}` of event {event_id} holds a plain value where a sealed one was expected"
    )]
    NotSealed {
        /// The field.
        field: String,
        /// The event.
        event_id: Uuid,
    },
    /// The value could not be serialized to JSON before encryption.
    #[error("field `{field}`: the value does not serialize: {source}")]
    Serialize {
        /// The field.
        field: String,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },
    /// The decrypted JSON does not deserialize into the field's type.
    #[error(
        "field `{field}` of event {event_id}: the decrypted value does not deserialize: {source}"
    )]
    Deserialize {
        /// The field.
        field: String,
        /// The event.
        event_id: Uuid,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },
    /// A ciphertext names a key generation the subject never had, and the subject was not
    /// forgotten: the header was forged, or the key store is not the one the data was
    /// written with.
    #[error(
        "subject {subject} has no key of generation {generation} (its current key is {current:?}); wrong key store, or a forged value"
    )]
    UnknownGeneration {
        /// The subject.
        subject: Subject,
        /// The generation the value names.
        generation: u32,
        /// The subject's current generation, if it has a key.
        current: Option<u32>,
    },
    /// The subject's key is missing although the subject was never forgotten: the key store
    /// lost it (restored from a backup older than the key, or another database). Data is not
    /// shown as redacted in this case, since no erasure was asked for.
    #[error(
        "subject {subject} has no key of generation {generation} and was never forgotten: the key store lost it"
    )]
    KeyMissing {
        /// The subject.
        subject: Subject,
        /// The generation the value names.
        generation: u32,
    },
    /// A stored data key is wrapped under a master key this store was not given (after a
    /// rotation, a process still holding the old master key reads this).
    #[error(
        "the key of subject {subject} is wrapped under master key `{stored}`, but this store holds master key `{current}`"
    )]
    UnknownMasterKey {
        /// The subject.
        subject: Subject,
        /// The master key id the row names.
        stored: String,
        /// The master key id this store holds.
        current: String,
    },
    /// The master key refused to unwrap (the row was altered, or copied from another subject)
    /// or could not be reached.
    #[error("master key `{master_key}` could not unwrap the key of subject {subject}: {source}")]
    MasterKey {
        /// The subject.
        subject: Subject,
        /// The master key's id.
        master_key: String,
        /// What the master key said.
        #[source]
        source: MasterKeyError,
    },
    /// A stored key row does not decode (a wrapped key of the wrong length, a negative
    /// generation).
    #[error("the key row of subject {subject} is corrupt: {reason}")]
    CorruptKey {
        /// The subject.
        subject: Subject,
        /// What is wrong.
        reason: String,
    },
    /// The value is too large for AES-GCM (64 GiB).
    #[error("a value of {bytes} bytes is too large to encrypt")]
    TooLarge {
        /// Its serialized size.
        bytes: usize,
    },
    /// The operating system's random generator failed (no nonce or key could be made).
    #[error("the system random generator failed: {0}")]
    Random(String),
    /// The key store's database failed.
    #[error("the key store failed while it {operation}: {source}")]
    Backend {
        /// What the store was doing ("read the key of a subject", ...).
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
}

impl PrivacyError {
    /// A backend failure while doing `operation`.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn backend(
        operation: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Backend {
            operation,
            source: Box::new(source),
        }
    }
}

/// Why a [`MasterKey`](super::MasterKey) could not wrap or unwrap a data key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MasterKeyError {
    /// The wrapped key does not authenticate under this master key: another master key
    /// wrapped it, or the row was altered or copied from another subject.
    #[error("the wrapped key does not authenticate under this master key")]
    Refused,
    /// The master key could not be used (a KMS that does not answer, say).
    #[error("the master key is unavailable: {0}")]
    Unavailable(#[source] BoxError),
}
