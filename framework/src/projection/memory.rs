//! Checkpoints kept in process memory: for read models that live in memory too, for tests,
//! and for runners in one process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    CheckpointStore, Claim, DeadLetter, Failure, ProjectionError, ProjectionKey, ProjectionState,
    Status,
};

/// Checkpoints, claims and dead letters in process memory.
///
/// Clones share the same checkpoints, so a test (or a health endpoint) can read a projection's
/// [`state`](CheckpointStore::state) while a runner owns another clone. A transaction here
/// cannot undo what a handler did to memory, so the runner never hands an event to a handler
/// twice in one process: after a failure it moves the checkpoint past the events that were
/// handled before retrying. Nothing survives the process: a read model kept in memory is
/// rebuilt from the log on start, which this gives it (every checkpoint starts at 0).
#[derive(Debug, Clone, Default)]
pub struct InMemoryCheckpoints {
    inner: Arc<Mutex<Checkpoints>>,
}

#[derive(Debug, Default)]
struct Checkpoints {
    rows: HashMap<ProjectionKey, Row>,
    dead_letters: HashMap<ProjectionKey, Vec<DeadLetter>>,
}

#[derive(Debug, Clone)]
struct Row {
    position: u64,
    epoch: u64,
    owner: Option<Uuid>,
    lease_until: Option<OffsetDateTime>,
    status: Status,
    active: bool,
    replay_until: u64,
    failure: Option<Failure>,
}

/// A transaction of [`InMemoryCheckpoints`]: the checkpoint writes it will make, checked
/// again and applied together at commit.
#[derive(Debug, Default)]
pub struct MemoryBatch {
    writes: Vec<Write>,
    handlers: (),
}

#[derive(Debug, Clone)]
enum Write {
    Advance {
        claim: Claim,
        from: u64,
        to: u64,
        lease: Duration,
    },
    DeadLetter(ProjectionKey, DeadLetter),
    Rewind {
        claim: Claim,
        from: u64,
    },
    Activate(Claim),
}

impl InMemoryCheckpoints {
    /// Empty checkpoints.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Checkpoints> {
        // A panic while holding the lock cannot leave a row half-written (every write is one
        // assignment of whole values), so the data of a poisoned lock is sound.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn lease_end(lease: Duration) -> OffsetDateTime {
    OffsetDateTime::now_utc() + lease
}

fn fenced(claim: &Claim, expected: u64) -> ProjectionError {
    ProjectionError::Fenced {
        projection: claim.key.clone(),
        epoch: claim.epoch,
        expected,
    }
}

impl Checkpoints {
    /// The row of `claim`'s projection, if the claim still holds it.
    fn held(&mut self, claim: &Claim) -> Option<&mut Row> {
        self.rows.get_mut(&claim.key).filter(|row| {
            row.owner == Some(claim.owner)
                && row.epoch == claim.epoch
                && row.status != Status::Retired
        })
    }

    fn check(&mut self, write: &Write) -> Result<(), ProjectionError> {
        match write {
            Write::Advance { claim, from, .. } | Write::Rewind { claim, from } => {
                match self.held(claim) {
                    Some(row) if row.position == *from => Ok(()),
                    _ => Err(fenced(claim, *from)),
                }
            }
            Write::Activate(claim) => match self.held(claim) {
                Some(_) => Ok(()),
                None => Err(fenced(claim, claim.position)),
            },
            Write::DeadLetter(..) => Ok(()),
        }
    }

    fn apply(&mut self, write: Write) {
        match write {
            Write::Advance {
                claim, to, lease, ..
            } => {
                if let Some(row) = self.held(&claim) {
                    row.position = to;
                    row.lease_until = Some(lease_end(lease));
                    row.status = Status::Running;
                    row.failure = None;
                }
            }
            Write::DeadLetter(key, letter) => {
                let letters = self.dead_letters.entry(key).or_default();
                letters.retain(|held| held.position != letter.position);
                letters.push(letter);
                letters.sort_by_key(|held| held.position);
            }
            Write::Rewind { claim, from } => {
                if let Some(row) = self.held(&claim) {
                    row.position = 0;
                    row.replay_until = row.replay_until.max(from);
                    row.status = Status::Running;
                    row.failure = None;
                }
            }
            Write::Activate(claim) => {
                for (key, row) in &mut self.rows {
                    if key.name == claim.key.name {
                        let mine = key.version == claim.key.version;
                        row.active = mine;
                        if !mine {
                            row.status = Status::Retired;
                        }
                    }
                }
            }
        }
    }
}

impl CheckpointStore for InMemoryCheckpoints {
    type Transaction = ();
    type Batch = MemoryBatch;
    const ROLLS_BACK_HANDLERS: bool = false;

    async fn claim(
        &self,
        key: &ProjectionKey,
        owner: Uuid,
        lease: Duration,
    ) -> Result<Option<Claim>, ProjectionError> {
        let mut checkpoints = self.lock();
        if !checkpoints.rows.contains_key(key) {
            let active = checkpoints
                .rows
                .iter()
                .find(|(other, row)| other.name == key.name && row.active)
                .map(|(_, row)| row.position);
            checkpoints.rows.insert(
                key.clone(),
                Row {
                    position: 0,
                    epoch: 0,
                    owner: None,
                    lease_until: None,
                    status: Status::Running,
                    active: active.is_none(),
                    replay_until: active.unwrap_or(0),
                    failure: None,
                },
            );
        }
        let Some(row) = checkpoints.rows.get_mut(key) else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        let free = row.owner.is_none() || row.lease_until.is_none_or(|until| until <= now);
        if row.owner != Some(owner) {
            if !free {
                return Ok(None);
            }
            row.owner = Some(owner);
            row.epoch += 1;
        }
        row.lease_until = Some(lease_end(lease));
        Ok(Some(Claim {
            key: key.clone(),
            owner,
            epoch: row.epoch,
            position: row.position,
            replay_until: row.replay_until,
            active: row.active,
            status: row.status,
        }))
    }

    async fn renew(&self, claim: &Claim, lease: Duration) -> Result<bool, ProjectionError> {
        let mut checkpoints = self.lock();
        Ok(match checkpoints.held(claim) {
            Some(row) => {
                row.lease_until = Some(lease_end(lease));
                true
            }
            None => false,
        })
    }

    async fn release(&self, claim: &Claim) -> Result<(), ProjectionError> {
        if let Some(row) = self.lock().held(claim) {
            row.lease_until = None;
            row.owner = None;
        }
        Ok(())
    }

    async fn begin(&self) -> Result<MemoryBatch, ProjectionError> {
        Ok(MemoryBatch::default())
    }

    fn transaction(batch: &mut MemoryBatch) -> &mut () {
        &mut batch.handlers
    }

    async fn advance(
        &self,
        batch: &mut MemoryBatch,
        claim: &Claim,
        from: u64,
        to: u64,
        lease: Duration,
    ) -> Result<(), ProjectionError> {
        let write = Write::Advance {
            claim: claim.clone(),
            from,
            to,
            lease,
        };
        self.lock().check(&write)?;
        batch.writes.push(write);
        Ok(())
    }

    async fn dead_letter(
        &self,
        batch: &mut MemoryBatch,
        key: &ProjectionKey,
        letter: &DeadLetter,
    ) -> Result<(), ProjectionError> {
        batch
            .writes
            .push(Write::DeadLetter(key.clone(), letter.clone()));
        Ok(())
    }

    async fn rewind(
        &self,
        batch: &mut MemoryBatch,
        claim: &Claim,
        from: u64,
    ) -> Result<(), ProjectionError> {
        let write = Write::Rewind {
            claim: claim.clone(),
            from,
        };
        self.lock().check(&write)?;
        batch.writes.push(write);
        Ok(())
    }

    async fn activate(
        &self,
        batch: &mut MemoryBatch,
        claim: &Claim,
    ) -> Result<(), ProjectionError> {
        let write = Write::Activate(claim.clone());
        self.lock().check(&write)?;
        batch.writes.push(write);
        Ok(())
    }

    async fn commit(&self, batch: MemoryBatch) -> Result<(), ProjectionError> {
        let mut checkpoints = self.lock();
        // All or nothing, as a database transaction: check every write before applying any.
        // The writes of one batch only ever move one checkpoint, in order, so each is checked
        // against the row as the writes before it leave it: replay them on a copy.
        let mut trial = Checkpoints {
            rows: checkpoints.rows.clone(),
            dead_letters: HashMap::new(),
        };
        for write in &batch.writes {
            trial.check(write)?;
            trial.apply(write.clone());
        }
        for write in batch.writes {
            checkpoints.apply(write);
        }
        Ok(())
    }

    async fn rollback(&self, batch: MemoryBatch) -> Result<(), ProjectionError> {
        drop(batch);
        Ok(())
    }

    async fn mark_failed(&self, claim: &Claim, failure: &Failure) -> Result<(), ProjectionError> {
        let mut checkpoints = self.lock();
        match checkpoints.held(claim) {
            Some(row) => {
                row.status = Status::Failed;
                row.failure = Some(failure.clone());
                Ok(())
            }
            None => Err(fenced(claim, failure.position)),
        }
    }

    async fn state(&self, key: &ProjectionKey) -> Result<Option<ProjectionState>, ProjectionError> {
        Ok(self.lock().rows.get(key).map(|row| ProjectionState {
            key: key.clone(),
            position: row.position,
            epoch: row.epoch,
            owner: row.owner,
            lease_until: row.lease_until,
            status: row.status,
            active: row.active,
            replay_until: row.replay_until,
            failure: row.failure.clone(),
        }))
    }

    async fn dead_letters(&self, key: &ProjectionKey) -> Result<Vec<DeadLetter>, ProjectionError> {
        Ok(self
            .lock()
            .dead_letters
            .get(key)
            .cloned()
            .unwrap_or_default())
    }

    async fn active_version(&self, name: &str) -> Result<Option<u32>, ProjectionError> {
        Ok(self
            .lock()
            .rows
            .iter()
            .find(|(key, row)| key.name == name && row.active)
            .map(|(key, _)| key.version))
    }
}
