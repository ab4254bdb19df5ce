//! Personal data (feature `privacy`): field encryption with a key per data subject, and
//! crypto-shredding, so that erasing a person never means rewriting the event log.
//!
//! **Status: the runtime only.** The field attribute that marks event and entity fields as
//! personal data, naming the field that holds the subject, comes next and will call this
//! module from the generated encoding. Until then an application calls
//! [`FieldEncryptor`] itself.
//!
//! # The pieces
//!
//! - A [`Subject`] is whose data a value is (in a tenant). Each subject has a data key,
//!   created on its first write, kept by a [`KeyStore`]: [`InMemoryKeyStore`],
//!   [`sqlite::SqliteKeyStore`], [`postgres::PostgresKeyStore`], optionally behind a
//!   [`CachedKeyStore`]. The store keeps data keys wrapped under the application's
//!   [`MasterKey`] ([`LocalMasterKey`], or a KMS of your own), never in the clear; rotating
//!   the master key re-wraps them ([`KeyStore::rotate_master_key`]).
//! - [`FieldEncryptor::encrypt`] seals a serde value with AES-256-GCM under the subject's key,
//!   with a fresh random 96-bit nonce, and binds it to its place ([`FieldContext`]: the
//!   stream, the event id, the field; plus the subject, its tenant and the key's
//!   generation) as associated data: moved anywhere else, it fails to decrypt
//!   ([`PrivacyError::Tampered`]). The result is a string in the [`stored`] form,
//!   `agg:v1:<generation>:<base64url>`.
//! - [`FieldEncryptor::decrypt`] opens it into a [`Protected<T>`]: the value, or
//!   [`Protected::Redacted`] once the subject was forgotten, never an error and never the
//!   plaintext.
//! - [`KeyStore::forget`] erases a subject: its key is deleted and the erasure recorded apart
//!   from the keys, so restoring the key table from an older backup does not bring it back,
//!   and writes for it are refused until [`KeyStore::re_register`]. See [`keys`] for the
//!   rules, the rotation procedure, and how long other processes may take to notice.
//!
//! # What it does not do (yet)
//!
//! Crypto-shredding does not reach copies made outside the encoder: plaintext already
//! exported, logged, or held in a read model written before the field was protected. The
//! erasure record lives in the key store's database; restoring *that* table from a backup
//! taken before an erasure brings the subject back (recording erasures in the event log is
//! part of the compliance work still to come).

mod binding;
mod cipher;
mod encryptor;
mod error;
pub mod keys;
mod master;
mod protected;
pub mod stored;
mod subject;

pub use binding::FieldContext;
pub use cipher::DataKey;
pub use encryptor::{FieldEncryptor, Sealer};
pub use error::{BoxError, MasterKeyError, PrivacyError};
#[cfg(feature = "postgres")]
pub use keys::postgres;
#[cfg(feature = "sqlite")]
pub use keys::sqlite;
pub use keys::{
    CachedKeyStore, Erasure, InMemoryKeyStore, KeyLookup, KeyStore, Rotation, SubjectKey,
};
pub use master::{LocalMasterKey, MasterKey};
pub use protected::Protected;
pub use subject::Subject;
