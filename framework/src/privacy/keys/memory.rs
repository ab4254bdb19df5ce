//! [`InMemoryKeyStore`]: keys in this process's memory, for tests and demos.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::envelope::{MasterSlot, new_key, open_key, read_key, rewrap};
use super::rules::{ForWrite, Observed, StoredKey};
use super::{Erasure, KeyLookup, KeyStore, Rotation, SubjectKey};
use crate::privacy::{MasterKey, PrivacyError, Subject};

/// A [`KeyStore`] in memory: the keys wrapped under the master key exactly as the SQL stores
/// keep them, the erasures in a record of their own. Not durable. Clones share the keys.
#[derive(Debug, Clone)]
pub struct InMemoryKeyStore {
    state: Arc<Mutex<State>>,
    master: Arc<MasterSlot>,
}

#[derive(Debug, Default)]
struct State {
    keys: HashMap<Subject, StoredKey>,
    erased: HashMap<Subject, u32>,
}

impl State {
    fn observe(&self, subject: &Subject) -> Observed {
        Observed {
            erased_through: self.erased.get(subject).copied(),
            key: self.keys.get(subject).cloned(),
        }
    }
}

impl InMemoryKeyStore {
    /// An empty store wrapping data keys under `master`.
    pub fn new(master: impl MasterKey + 'static) -> Self {
        Self::with_master(Arc::new(master))
    }

    /// [`new`](Self::new) with a shared master key.
    pub fn with_master(master: Arc<dyn MasterKey>) -> Self {
        Self {
            state: Arc::default(),
            master: Arc::new(MasterSlot::new(master)),
        }
    }

    /// Another handle on the same keys holding `master` as its own master key, as a second
    /// process sharing a database would.
    pub fn handle_with_master(&self, master: Arc<dyn MasterKey>) -> Self {
        Self {
            state: Arc::clone(&self.state),
            master: Arc::new(MasterSlot::new(master)),
        }
    }
}

#[async_trait]
impl KeyStore for InMemoryKeyStore {
    async fn key_for_write(&self, subject: &Subject) -> Result<SubjectKey, PrivacyError> {
        let master = self.master.get();
        let mut state = self.state.lock().await;
        let observed = state.observe(subject);
        match observed.for_write() {
            ForWrite::Use(row) => Ok(SubjectKey {
                generation: row.generation,
                key: open_key(&*master, subject, row).await?,
            }),
            ForWrite::Erased => Err(PrivacyError::SubjectErased {
                subject: subject.clone(),
            }),
            ForWrite::Create => {
                let (key, row) = new_key(&*master, subject, 1).await?;
                state.keys.insert(subject.clone(), row);
                Ok(SubjectKey { generation: 1, key })
            }
        }
    }

    async fn key_for_read(
        &self,
        subject: &Subject,
        generation: u32,
    ) -> Result<KeyLookup, PrivacyError> {
        let master = self.master.get();
        let observed = self.state.lock().await.observe(subject);
        read_key(&observed, &*master, subject, generation).await
    }

    async fn forget(&self, subject: &Subject) -> Result<Erasure, PrivacyError> {
        let mut state = self.state.lock().await;
        let observed = state.observe(subject);
        if let Some(generation) = observed.to_erase() {
            state.erased.insert(subject.clone(), generation);
        }
        let key_deleted = state.keys.remove(subject).is_some();
        Ok(Erasure {
            subject: subject.clone(),
            erased_through: state.erased.get(subject).copied().unwrap_or(0),
            key_deleted,
        })
    }

    async fn re_register(&self, subject: &Subject) -> Result<SubjectKey, PrivacyError> {
        let master = self.master.get();
        let mut state = self.state.lock().await;
        let observed = state.observe(subject);
        if let Some(row) = observed.active() {
            return Ok(SubjectKey {
                generation: row.generation,
                key: open_key(&*master, subject, row).await?,
            });
        }
        let generation = observed.next_generation();
        let (key, row) = new_key(&*master, subject, generation).await?;
        state.keys.insert(subject.clone(), row);
        Ok(SubjectKey { generation, key })
    }

    async fn rotate_master_key(&self, new: Arc<dyn MasterKey>) -> Result<Rotation, PrivacyError> {
        let old = self.master.get();
        let mut state = self.state.lock().await;
        let mut rewrapped = 0;
        for (subject, row) in state.keys.iter_mut() {
            if row.master_key_id == new.id() {
                continue;
            }
            row.wrapped = rewrap(&*old, &*new, subject, row).await?;
            row.master_key_id = new.id().to_owned();
            rewrapped += 1;
        }
        self.master.set(Arc::clone(&new));
        Ok(Rotation {
            master_key: new.id().to_owned(),
            rewrapped,
        })
    }
}
