//! Running live: standby until the claim is free, then catch up and follow the log, renewing
//! the claim, until shut down.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::{ProjectionRunner, RunOutcome};
use crate::projection::{CheckpointStore, Projection, ProjectionError};
use crate::store::EventStore;

impl<S, C, P> ProjectionRunner<S, C, P>
where
    S: EventStore,
    C: CheckpointStore<Transaction = P::Transaction>,
    P: Projection,
{
    /// Runs the projection until `shutdown` completes: waits on standby until it can claim
    /// the projection, catches up, then follows the log live, renewing its claim. When it
    /// loses the claim (another runner took over after a pause, say), it goes back to
    /// standby. Returns when shut down or when a newer version took over; an event that keeps
    /// failing, in a projection that stops on failure, ends it with
    /// [`ProjectionError::Failed`].
    pub async fn run(
        &mut self,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<RunOutcome, ProjectionError> {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            if self.claim.is_none() {
                match self.stand_by(shutdown.as_mut()).await? {
                    Some(outcome) => return Ok(outcome),
                    None => continue,
                }
            }
            if is_ready(shutdown.as_mut()).await {
                return self.shut_down().await;
            }
            // A failed renewal or activation is met like a failed batch: the database
            // being away for a moment (a restart) must not end the run.
            let shut_down = match self.step().await {
                Ok(true) => Ok(false),
                Ok(false) => self.follow(shutdown.as_mut()).await,
                Err(error) => Err(error),
            };
            match shut_down {
                Ok(false) => {}
                Ok(true) => return self.shut_down().await,
                Err(error @ (ProjectionError::Failed { .. } | ProjectionError::Hook { .. })) => {
                    return Err(error);
                }
                Err(ProjectionError::Fenced { .. }) => {
                    tracing::warn!(projection = %self.key, owner = %self.owner, "projection claim lost; standing by");
                    self.claim = None;
                }
                Err(error) => {
                    tracing::warn!(projection = %self.key, %error, "projection run interrupted; trying again");
                    if wait_or_shutdown(shutdown.as_mut(), self.config.claim_interval).await {
                        return self.shut_down().await;
                    }
                    // Claim again: the same owner keeps its epoch if nobody took over.
                    self.claim = None;
                }
            }
        }
    }

    /// At the end of the log: activates a version that is not active yet, then waits for new
    /// events, renewing the claim; `true` when shut down.
    async fn follow(
        &mut self,
        shutdown: Pin<&mut (impl Future<Output = ()> + Send)>,
    ) -> Result<bool, ProjectionError> {
        self.caught_up().await?;
        self.wait_live(shutdown).await
    }

    /// Gives the claim up and ends the run. A release that fails (the database is away) is
    /// only logged: the claim then lapses at the end of its lease, which is as safe, only
    /// slower for the next runner.
    async fn shut_down(&mut self) -> Result<RunOutcome, ProjectionError> {
        if let Err(error) = self.release().await {
            tracing::warn!(projection = %self.key, %error, "giving the projection claim up failed; it lapses with its lease");
        }
        Ok(RunOutcome::Shutdown)
    }

    /// Waits until the projection can be claimed; `Some` when the run should end instead.
    async fn stand_by(
        &mut self,
        mut shutdown: Pin<&mut (impl Future<Output = ()> + Send)>,
    ) -> Result<Option<RunOutcome>, ProjectionError> {
        loop {
            if is_ready(shutdown.as_mut()).await {
                return Ok(Some(RunOutcome::Shutdown));
            }
            match self.try_claim().await {
                Ok(Some(_)) => return Ok(None),
                Ok(None) => {}
                Err(ProjectionError::Retired { .. }) => return Ok(Some(RunOutcome::Retired)),
                Err(error) => {
                    tracing::warn!(projection = %self.key, %error, "claiming the projection failed; trying again");
                }
            }
            if wait_or_shutdown(shutdown.as_mut(), self.config.claim_interval).await {
                return Ok(Some(RunOutcome::Shutdown));
            }
        }
    }

    /// Waits for new events while caught up, renewing the claim when a third of the lease
    /// has gone by; `true` when shut down. A lost claim sends the runner back to standby.
    async fn wait_live(
        &mut self,
        shutdown: Pin<&mut (impl Future<Output = ()> + Send)>,
    ) -> Result<bool, ProjectionError> {
        let wait = self.config.poll_interval.min(self.config.lease / 3);
        let mut wake = self.store.position_watch();
        let woken = async {
            match &mut wake {
                Some(wake) => {
                    // Either outcome ends the wait: a new position, or the timeout.
                    let _ = tokio::time::timeout(wait, wake.changed()).await;
                }
                None => tokio::time::sleep(wait).await,
            }
        };
        tokio::select! {
            () = shutdown => return Ok(true),
            () = woken => {}
        }
        let renewal_due = self
            .renewed_at
            .is_none_or(|at| at.elapsed() >= self.config.lease / 3);
        if let Some(claim) = self.claim.clone().filter(|_| renewal_due) {
            if self.checkpoints.renew(&claim, self.config.lease).await? {
                self.renewed_at = Some(Instant::now());
            } else {
                tracing::warn!(projection = %self.key, owner = %self.owner, "projection claim lost; standing by");
                self.claim = None;
            }
        }
        Ok(false)
    }
}

/// Whether `future` has completed, without waiting for it.
async fn is_ready(future: Pin<&mut (impl Future<Output = ()> + Send)>) -> bool {
    let mut future = future;
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_ready())).await
}

/// Waits `wait`, or less when `shutdown` completes first; whether it did.
async fn wait_or_shutdown(
    shutdown: Pin<&mut (impl Future<Output = ()> + Send)>,
    wait: Duration,
) -> bool {
    tokio::select! {
        () = shutdown => true,
        () = tokio::time::sleep(wait) => false,
    }
}
