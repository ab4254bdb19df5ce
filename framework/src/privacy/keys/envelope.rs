//! Envelope encryption as the stores use it: new data keys wrapped under the current master
//! key, stored keys unwrapped (refusing rows of another master key), re-wrapping for a
//! rotation, and the slot holding the store's current master key.

use std::sync::{Arc, PoisonError, RwLock};

use super::KeyLookup;
use super::rules::{ForRead, Observed, StoredKey};
use crate::privacy::binding::key_binding;
use crate::privacy::{DataKey, MasterKey, PrivacyError, Subject};

/// The store's current master key, swapped by a rotation. Shared by the clones of a store.
#[derive(Debug)]
pub(crate) struct MasterSlot(RwLock<Arc<dyn MasterKey>>);

impl MasterSlot {
    pub fn new(master: Arc<dyn MasterKey>) -> Self {
        Self(RwLock::new(master))
    }

    pub fn get(&self) -> Arc<dyn MasterKey> {
        // A panic while the lock was held cannot leave the `Arc` half-written.
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn set(&self, master: Arc<dyn MasterKey>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = master;
    }
}

/// A new random data key of `generation` for `subject`, and its row wrapped under `master`.
pub(crate) async fn new_key(
    master: &dyn MasterKey,
    subject: &Subject,
    generation: u32,
) -> Result<(DataKey, StoredKey), PrivacyError> {
    let key = DataKey::generate()?;
    let wrapped = master
        .wrap(&key, &key_binding(subject, generation))
        .await
        .map_err(|source| PrivacyError::MasterKey {
            subject: subject.clone(),
            master_key: master.id().to_owned(),
            source,
        })?;
    let row = StoredKey {
        generation,
        master_key_id: master.id().to_owned(),
        wrapped,
    };
    Ok((key, row))
}

/// The data key of `row`, which `master` must have wrapped.
pub(crate) async fn open_key(
    master: &dyn MasterKey,
    subject: &Subject,
    row: &StoredKey,
) -> Result<DataKey, PrivacyError> {
    if row.master_key_id != master.id() {
        return Err(PrivacyError::UnknownMasterKey {
            subject: subject.clone(),
            stored: row.master_key_id.clone(),
            current: master.id().to_owned(),
        });
    }
    master
        .unwrap(&row.wrapped, &key_binding(subject, row.generation))
        .await
        .map_err(|source| PrivacyError::MasterKey {
            subject: subject.clone(),
            master_key: master.id().to_owned(),
            source,
        })
}

/// `row`'s key (wrapped under `old`) wrapped under `new` instead.
pub(crate) async fn rewrap(
    old: &dyn MasterKey,
    new: &dyn MasterKey,
    subject: &Subject,
    row: &StoredKey,
) -> Result<Vec<u8>, PrivacyError> {
    let key = open_key(old, subject, row).await?;
    new.wrap(&key, &key_binding(subject, row.generation))
        .await
        .map_err(|source| PrivacyError::MasterKey {
            subject: subject.clone(),
            master_key: new.id().to_owned(),
            source,
        })
}

/// The answer to a read of a value of `generation`, from what was observed.
pub(crate) async fn read_key(
    observed: &Observed,
    master: &dyn MasterKey,
    subject: &Subject,
    generation: u32,
) -> Result<KeyLookup, PrivacyError> {
    match observed.for_read(generation) {
        ForRead::Unwrap(row) => Ok(KeyLookup::Key(open_key(master, subject, row).await?)),
        ForRead::Forgotten => Ok(KeyLookup::Forgotten),
        ForRead::Missing => Err(PrivacyError::KeyMissing {
            subject: subject.clone(),
            generation,
        }),
        ForRead::Unknown { current } => Err(PrivacyError::UnknownGeneration {
            subject: subject.clone(),
            generation,
            current,
        }),
    }
}
