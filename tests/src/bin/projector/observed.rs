//! A checkpoint store that tells the parent process what happens to the claim: it forwards
//! every call to the real store and prints a line when the runner claims, loses its claim,
//! is fenced or meets an error. When asked, it also holds a batch before it begins (so the
//! parent can freeze the process between reading events and committing them) or before it
//! moves the checkpoint (frozen inside the open transaction, holding the read model's rows).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use aggregato::projection::{
    CheckpointStore, Claim, DeadLetter, Failure, ProjectionError, ProjectionKey, ProjectionState,
};
use uuid::Uuid;

/// The real store `inner`, observed.
pub struct Observed<C> {
    inner: C,
    /// Whether a claim is held, as far as the calls seen tell: so `claimed` is printed once
    /// per claim, not on every renewal.
    holding: AtomicBool,
    /// Set by the parent: how long the next batch waits before it begins, and before it moves
    /// the checkpoint, in milliseconds (0: it does not).
    holds: Arc<Holds>,
}

/// What the parent asked to hold (`hold MS`, `hold-advance MS` on stdin).
#[derive(Debug, Default)]
pub struct Holds {
    pub begin: AtomicU64,
    pub advance: AtomicU64,
}

/// Waits as long as `hold` says, once, saying so with `line`.
async fn hold(hold: &AtomicU64, line: &str) {
    let millis = hold.swap(0, Ordering::SeqCst);
    if millis > 0 {
        println!("{line}");
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
}

impl<C> Observed<C> {
    pub fn new(inner: C, holds: Arc<Holds>) -> Self {
        Self {
            inner,
            holding: AtomicBool::new(false),
            holds,
        }
    }

    /// Prints an error of `operation`. After one the runner drops its claim and claims again,
    /// except after a failed rollback, which it only logs (the batch's error is the one that
    /// counts: a handler's is retried under the same claim).
    fn seen<T>(
        &self,
        operation: &str,
        result: Result<T, ProjectionError>,
    ) -> Result<T, ProjectionError> {
        match &result {
            Err(ProjectionError::Fenced {
                epoch, expected, ..
            }) => {
                self.holding.store(false, Ordering::SeqCst);
                println!("fenced op={operation} epoch={epoch} expected={expected}");
            }
            Err(error) => {
                if operation != "rollback" {
                    self.holding.store(false, Ordering::SeqCst);
                }
                println!("error op={operation}: {}", one_line(error));
            }
            Ok(_) => {}
        }
        result
    }
}

fn one_line(error: &ProjectionError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.replace('\n', " ")
}

impl<C: CheckpointStore> CheckpointStore for Observed<C> {
    type Transaction = C::Transaction;
    type Batch = C::Batch;
    const ROLLS_BACK_HANDLERS: bool = C::ROLLS_BACK_HANDLERS;

    async fn claim(
        &self,
        key: &ProjectionKey,
        owner: Uuid,
        lease: Duration,
    ) -> Result<Option<Claim>, ProjectionError> {
        let claimed = self.seen("claim", self.inner.claim(key, owner, lease).await)?;
        if let Some(claim) = &claimed
            && !self.holding.swap(true, Ordering::SeqCst)
        {
            println!("claimed epoch={} position={}", claim.epoch, claim.position);
        }
        Ok(claimed)
    }

    async fn renew(&self, claim: &Claim, lease: Duration) -> Result<bool, ProjectionError> {
        let renewed = self.seen("renew", self.inner.renew(claim, lease).await)?;
        if !renewed {
            self.holding.store(false, Ordering::SeqCst);
            println!("lost epoch={}", claim.epoch);
        }
        Ok(renewed)
    }

    async fn release(&self, claim: &Claim) -> Result<(), ProjectionError> {
        self.holding.store(false, Ordering::SeqCst);
        self.seen("release", self.inner.release(claim).await)
    }

    async fn begin(&self) -> Result<Self::Batch, ProjectionError> {
        hold(&self.holds.begin, "held").await;
        let batch = self.seen("begin", self.inner.begin().await)?;
        println!("begun");
        Ok(batch)
    }

    fn transaction(batch: &mut Self::Batch) -> &mut Self::Transaction {
        C::transaction(batch)
    }

    async fn advance(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
        from: u64,
        to: u64,
        lease: Duration,
    ) -> Result<(), ProjectionError> {
        hold(&self.holds.advance, "held-advance").await;
        let advanced = self.inner.advance(batch, claim, from, to, lease).await;
        self.seen("advance", advanced)
    }

    async fn dead_letter(
        &self,
        batch: &mut Self::Batch,
        key: &ProjectionKey,
        letter: &DeadLetter,
    ) -> Result<(), ProjectionError> {
        let written = self.inner.dead_letter(batch, key, letter).await;
        self.seen("dead_letter", written)
    }

    async fn rewind(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
        from: u64,
    ) -> Result<(), ProjectionError> {
        let rewound = self.inner.rewind(batch, claim, from).await;
        self.seen("rewind", rewound)
    }

    async fn activate(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
    ) -> Result<(), ProjectionError> {
        let activated = self.inner.activate(batch, claim).await;
        self.seen("activate", activated)
    }

    async fn commit(&self, batch: Self::Batch) -> Result<(), ProjectionError> {
        self.seen("commit", self.inner.commit(batch).await)
    }

    async fn rollback(&self, batch: Self::Batch) -> Result<(), ProjectionError> {
        self.seen("rollback", self.inner.rollback(batch).await)
    }

    async fn mark_failed(&self, claim: &Claim, failure: &Failure) -> Result<(), ProjectionError> {
        self.seen("mark_failed", self.inner.mark_failed(claim, failure).await)
    }

    async fn state(&self, key: &ProjectionKey) -> Result<Option<ProjectionState>, ProjectionError> {
        self.inner.state(key).await
    }

    async fn dead_letters(&self, key: &ProjectionKey) -> Result<Vec<DeadLetter>, ProjectionError> {
        self.inner.dead_letters(key).await
    }

    async fn active_version(&self, name: &str) -> Result<Option<u32>, ProjectionError> {
        self.inner.active_version(name).await
    }
}
