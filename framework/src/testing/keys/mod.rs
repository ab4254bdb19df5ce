//! The key-store conformance suite: the checks every
//! [`KeyStore`] must pass unchanged (features `testing` and
//! `privacy`).
//!
//! Each check is a public async function taking `open`, a function that opens a handle on
//! one fresh key storage (a new SQLite file, a new PostgreSQL schema, one
//! [`InMemoryKeyStore`](crate::privacy::InMemoryKeyStore)) with the master key it is given,
//! as a second process sharing the database would. Checks open several handles when they
//! need other processes or another master key.
//!
//! ```no_run
//! # async fn example(pool: sqlx::SqlitePool) {
//! use aggregato::privacy::sqlite::SqliteKeyStore;
//! use aggregato::testing::keys;
//!
//! keys::run_all(|master| SqliteKeyStore::with_master(pool.clone(), master)).await;
//! # }
//! ```
//!
//! A check panics (it is a test assertion) with a message naming the rule the store broke.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::privacy::{KeyStore, LocalMasterKey, MasterKey, PrivacyError, Subject};

mod erasure;
mod lifecycle;
mod sealing;

pub use erasure::{
    forgotten_subjects_read_as_redacted, writes_for_a_forgotten_subject_wait_for_re_registration,
};
pub use lifecycle::{
    a_cache_sees_a_forget_made_elsewhere_within_its_bound,
    a_first_key_is_created_once_under_concurrent_writers, master_key_rotation_rewraps_every_key,
};
pub use sealing::{moved_or_altered_values_do_not_decrypt, values_round_trip};

/// Runs every check, each on handles of the same storage (the checks use subjects of their
/// own).
pub async fn run_all<K, F>(open: F)
where
    K: KeyStore + Clone + 'static,
    F: Fn(Arc<dyn MasterKey>) -> K,
{
    values_round_trip(&open).await;
    moved_or_altered_values_do_not_decrypt(&open).await;
    forgotten_subjects_read_as_redacted(&open).await;
    writes_for_a_forgotten_subject_wait_for_re_registration(&open).await;
    a_first_key_is_created_once_under_concurrent_writers(&open).await;
    master_key_rotation_rewraps_every_key(&open).await;
    a_cache_sees_a_forget_made_elsewhere_within_its_bound(&open).await;
}

/// A fresh random master key.
pub fn master(id: &str) -> Arc<dyn MasterKey> {
    Arc::new(LocalMasterKey::generate(id).unwrap_or_else(|error| fail(&error.to_string())))
}

/// A subject no other check uses.
fn fresh_subject(tenant: &str) -> Subject {
    Subject::in_tenant(tenant, format!("subject-{}", Uuid::now_v7()))
}

#[track_caller]
fn fail(message: &str) -> ! {
    std::panic::panic_any(format!("key store conformance: {message}"))
}

#[track_caller]
fn ok<T>(what: &str, result: Result<T, PrivacyError>) -> T {
    result.unwrap_or_else(|error| fail(&format!("{what} failed: {error}")))
}

/// A struct field value, to show values of any serde shape round-trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Address {
    street: String,
    number: u32,
    lines: Vec<String>,
}
