//! Key stores: the [`KeyStore`] trait, its implementations in memory, in SQLite and in
//! PostgreSQL, and [`CachedKeyStore`] for processes that read keys often.
//!
//! # What a key store keeps
//!
//! - **One data key per subject**, created on the subject's first write, stored wrapped
//!   under the application's [`MasterKey`] (with that master key's id), never in the clear.
//!   Each key has a *generation*, stored in every value sealed under it.
//! - **A record of erasures**, apart from the keys: [`KeyStore::forget`] records that the
//!   subject's keys up to its current generation are erased, then deletes the key. Keys of
//!   an erased generation are refused even when they come back (a key table restored from a
//!   backup taken before the erasure), and a write for an erased subject is refused
//!   ([`PrivacyError::SubjectErased`]) until the application calls
//!   [`KeyStore::re_register`], which creates a key of a new generation: the old data stays
//!   redacted. Restoring the erasure record itself from an older backup would bring erased
//!   subjects back; keep it out of such restores (or re-apply the erasures afterwards).
//!
//! # Rotating the master key
//!
//! [`KeyStore::rotate_master_key`] re-wraps every data key under the new master key and
//! makes the store use it; stored values are not touched (they name the data key's
//! generation, not the master key). It is idempotent and can be resumed after a crash: it
//! re-wraps the rows not yet under the new master key. Afterwards a store given the old
//! master key refuses the rows ([`PrivacyError::UnknownMasterKey`]): restart every process
//! with the new master key, then rotate once more, to catch keys created by a process that
//! still had the old one in the meantime.
//!
//! # Other processes
//!
//! The SQL stores read the database on every lookup, so a `forget` in one process is seen by
//! the next lookup of every other. [`CachedKeyStore`] saves those lookups and still sees a
//! forget made elsewhere within its staleness bound (one second by default).

mod cache;
mod envelope;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
mod rules;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

pub use cache::{CachedKeyStore, DEFAULT_STALENESS};
pub use memory::InMemoryKeyStore;

use super::{DataKey, MasterKey, PrivacyError, Subject};

/// Where subjects' data keys live. Object safe: a [`FieldEncryptor`](super::FieldEncryptor)
/// holds an `Arc<dyn KeyStore>`. Every implementation passes the conformance suite
/// (`aggregato::testing::keys`, features `testing` and `privacy`).
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The key new values of `subject` are sealed under, created on the subject's first
    /// write. Refused with [`PrivacyError::SubjectErased`] when the subject was forgotten and
    /// not re-registered since.
    async fn key_for_write(&self, subject: &Subject) -> Result<SubjectKey, PrivacyError>;

    /// The key of `generation` for reading a value of `subject`, or
    /// [`KeyLookup::Forgotten`] when that generation was erased.
    async fn key_for_read(
        &self,
        subject: &Subject,
        generation: u32,
    ) -> Result<KeyLookup, PrivacyError>;

    /// Erases `subject`: records the erasure, then deletes its key. Every value sealed for it
    /// reads as redacted from then on, and writes for it are refused until it is
    /// re-registered. Idempotent; forgetting a subject that never had a key records the
    /// erasure all the same (its writes are refused).
    async fn forget(&self, subject: &Subject) -> Result<Erasure, PrivacyError>;

    /// Allows writes for a forgotten `subject` again, under a new key of a new generation
    /// (its old values stay redacted). Returns the subject's current key if it was not
    /// erased.
    async fn re_register(&self, subject: &Subject) -> Result<SubjectKey, PrivacyError>;

    /// Re-wraps every data key under `new` and uses `new` from then on. See the
    /// [module docs](self).
    async fn rotate_master_key(&self, new: Arc<dyn MasterKey>) -> Result<Rotation, PrivacyError>;
}

/// A subject's key for writing, with its generation (stored in each sealed value).
#[derive(Debug, Clone)]
pub struct SubjectKey {
    /// The key's generation: 1 for a subject's first key, one more after each
    /// re-registration.
    pub generation: u32,
    /// The key.
    pub key: DataKey,
}

/// The answer to [`KeyStore::key_for_read`].
#[derive(Debug, Clone)]
pub enum KeyLookup {
    /// The key.
    Key(DataKey),
    /// The generation was erased: the value reads as redacted.
    Forgotten,
}

/// What [`KeyStore::forget`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The subject.
    pub subject: Subject,
    /// Keys of this generation and below are erased (0 when the subject never had a key).
    pub erased_through: u32,
    /// Whether a key was deleted (false when forgetting again, or a subject without key).
    pub key_deleted: bool,
}

/// What [`KeyStore::rotate_master_key`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The new master key's id.
    pub master_key: String,
    /// How many data keys were re-wrapped (0 when run again).
    pub rewrapped: u64,
}
