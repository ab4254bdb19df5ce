//! Driving one saga to its end: ask the progress what comes next, record it, run the step or
//! compensation it names under its timeout, record how that ended, and again.

use std::time::Duration;

use serde_json::Value;
use tracing::Instrument as _;
use uuid::Uuid;

use super::SagaExecutor;
use crate::saga::error::SagaError;
use crate::saga::events::SagaEvent;
use crate::saga::outcome::SagaOutcome;
use crate::saga::progress::{NextAction, SagaPhase, SagaProgress};
use crate::saga::{SagaSteps, StepAction, StepError, StepKey};
use crate::store::EventStore;

/// How a step or compensation run ended.
enum RunResult {
    Done,
    Refused(StepError),
    /// Interrupted at its timeout: its participant may or may not have done the work.
    TimedOut(Duration),
}

impl<G: SagaSteps, S: EventStore> SagaExecutor<G, S> {
    /// Runs the saga from `log` until it ends. If another executor records a transition
    /// first, reports the saga's real outcome once that one has ended it.
    pub(super) async fn drive(
        &self,
        saga_id: &str,
        progress: SagaProgress,
        data: G,
    ) -> Result<SagaOutcome<G>, SagaError> {
        match self.drive_to_end(saga_id, progress, data).await {
            Err(SagaError::Contended { .. }) => self.settled_elsewhere(saga_id).await,
            other => other,
        }
    }

    /// After losing the stream to another executor: the saga's outcome if that one ended it,
    /// else `Contended` with where it stands.
    pub(super) async fn settled_elsewhere(
        &self,
        saga_id: &str,
    ) -> Result<SagaOutcome<G>, SagaError> {
        let progress = self.read(saga_id).await?;
        if !progress.phase.is_terminal() {
            return Err(SagaError::Contended {
                saga_id: saga_id.to_owned(),
                phase: progress.phase,
            });
        }
        let data = self.decode(saga_id, &progress.data)?;
        self.outcome(saga_id, &progress, data)
    }

    /// Runs the saga from `log` until it ends, recording each transition first.
    async fn drive_to_end(
        &self,
        saga_id: &str,
        mut progress: SagaProgress,
        mut data: G,
    ) -> Result<SagaOutcome<G>, SagaError> {
        loop {
            let action =
                progress.next_action(G::STEPS, &self.forward_retry, &self.compensation_retry);
            match action {
                NextAction::Done => return self.outcome(saga_id, &progress, data),
                NextAction::Record(event) => {
                    self.append_next(saga_id, &mut progress, event).await?;
                }
                NextAction::StartCompensation { index } => {
                    let (failed_step, error) = progress.failure.clone().unwrap_or_else(|| {
                        (step_name::<G>(index).to_owned(), String::from("unknown"))
                    });
                    let event = SagaEvent::CompensationStarted { failed_step, error };
                    self.append_next(saga_id, &mut progress, event).await?;
                }
                NextAction::RunStep { index, attempt } => {
                    let failed_before = progress.failed_attempts_before(&action);
                    if failed_before > 0 {
                        wait(self.forward_retry.backoff(failed_before)).await;
                    }
                    self.run_step(saga_id, &mut progress, &mut data, index, attempt)
                        .await?;
                }
                NextAction::Compensate { index, attempt } => {
                    let failed_before = progress.failed_attempts_before(&action);
                    if failed_before > 0 {
                        wait(self.compensation_retry.backoff(failed_before)).await;
                    }
                    self.compensate_step(saga_id, &mut progress, &mut data, index, attempt)
                        .await?;
                }
            }
        }
    }

    /// Records that step `index` starts, runs it, and records how it ended.
    async fn run_step(
        &self,
        saga_id: &str,
        progress: &mut SagaProgress,
        data: &mut G,
        index: usize,
        attempt: u32,
    ) -> Result<(), SagaError> {
        let step = step_name::<G>(index);
        let started = SagaEvent::StepStarted {
            step: step.to_owned(),
            index,
            attempt,
        };
        self.append_next(saga_id, progress, started).await?;
        let key = StepKey::new(G::SAGA_TYPE, saga_id, step, StepAction::Run)
            .with_correlation_id(correlation_id::<G>(saga_id, progress));
        let (result, changed) = self.run(saga_id, data, index, StepAction::Run, key).await?;
        let step = step.to_owned();
        let event = match result {
            RunResult::Done => SagaEvent::StepCompleted {
                step,
                index,
                data: changed,
            },
            RunResult::Refused(error) => SagaEvent::StepFailed {
                step,
                index,
                attempt,
                error: error.to_string(),
                data: changed,
            },
            RunResult::TimedOut(limit) => SagaEvent::StepTimedOut {
                step,
                index,
                attempt,
                timeout_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
                data: changed,
            },
        };
        self.append_next(saga_id, progress, event).await
    }

    /// Runs the compensation of step `index` and records how it ended. (A compensation is not
    /// announced first: one that ran without a record of its end simply runs again, with the
    /// same key.)
    async fn compensate_step(
        &self,
        saga_id: &str,
        progress: &mut SagaProgress,
        data: &mut G,
        index: usize,
        attempt: u32,
    ) -> Result<(), SagaError> {
        let step = step_name::<G>(index);
        let key = StepKey::new(G::SAGA_TYPE, saga_id, step, StepAction::Compensate)
            .with_correlation_id(correlation_id::<G>(saga_id, progress));
        let (result, changed) = self
            .run(saga_id, data, index, StepAction::Compensate, key)
            .await?;
        let step = step.to_owned();
        let error = match result {
            RunResult::Done => None,
            RunResult::Refused(error) => Some(error.to_string()),
            RunResult::TimedOut(limit) => Some(format!("timed out after {limit:?}")),
        };
        let event = match error {
            None => SagaEvent::StepCompensated {
                step,
                index,
                data: changed,
            },
            Some(error) => SagaEvent::CompensationFailed {
                step,
                index,
                attempt,
                error,
                data: changed,
            },
        };
        self.append_next(saga_id, progress, event).await
    }

    /// Runs a step or compensation under its timeout; returns how it ended and the data if
    /// the run changed it.
    async fn run(
        &self,
        saga_id: &str,
        data: &mut G,
        index: usize,
        action: StepAction,
        key: StepKey,
    ) -> Result<(RunResult, Option<Value>), SagaError> {
        let before = self.encode(saga_id, data)?;
        let declared = G::STEPS.get(index).and_then(|info| info.timeout);
        let timeout = declared.or(self.step_timeout);
        let services = self.services.as_ref();
        let span = tracing::info_span!(
            "saga_step",
            saga_type = G::SAGA_TYPE,
            saga_id,
            step = key.step(),
            action = match action {
                StepAction::Run => "run",
                StepAction::Compensate => "compensate",
            },
            step_key = key.as_str(),
            correlation_id = %key.correlation_id(),
            outcome = tracing::field::Empty,
        );
        let run = async {
            match action {
                StepAction::Run => data.run_step(index, services, key).await,
                StepAction::Compensate => data.compensate_step(index, services, key).await,
            }
        }
        .instrument(span.clone());
        let result = match timeout {
            None => Some(run.await),
            Some(limit) => tokio::time::timeout(limit, run).await.ok(),
        };
        let result = match (result, timeout) {
            (Some(Ok(())), _) => RunResult::Done,
            (Some(Err(error)), _) => RunResult::Refused(error),
            (None, limit) => RunResult::TimedOut(limit.unwrap_or_default()),
        };
        span.record(
            "outcome",
            match &result {
                RunResult::Done => "done",
                RunResult::Refused(_) => "refused",
                RunResult::TimedOut(_) => "timed out",
            },
        );
        let after = self.encode(saga_id, data)?;
        Ok((result, (after != before).then_some(after)))
    }

    fn outcome(
        &self,
        saga_id: &str,
        progress: &SagaProgress,
        data: G,
    ) -> Result<SagaOutcome<G>, SagaError> {
        Ok(match &progress.phase {
            SagaPhase::Completed => SagaOutcome::Completed { data },
            SagaPhase::Compensated => {
                let (failed_step, error) = progress.failure.clone().unwrap_or_default();
                SagaOutcome::Compensated {
                    data,
                    failed_step,
                    error,
                }
            }
            SagaPhase::Failed { reason } => SagaOutcome::Failed {
                data,
                reason: reason.clone(),
                failed_compensations: progress.failed_compensations(),
            },
            // `drive` only stops at an end.
            SagaPhase::NotStarted | SagaPhase::Running { .. } | SagaPhase::Compensating => {
                return Err(SagaError::NotFound {
                    saga_id: saga_id.to_owned(),
                });
            }
        })
    }
}

/// The declared name of step `index`. The progress only yields indexes that `check_step` matched
/// against the declared steps, so the fallback is never recorded in practice.
fn step_name<G: SagaSteps>(index: usize) -> &'static str {
    G::STEPS.get(index).map_or("?", |info| info.name)
}

/// Waits out a retry backoff; a zero backoff only yields.
async fn wait(backoff: Duration) {
    if backoff.is_zero() {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(backoff).await;
    }
}

/// The correlation id of the saga: the one it started with, else the one derived from it.
pub(super) fn correlation_id<G: SagaSteps>(saga_id: &str, progress: &SagaProgress) -> Uuid {
    progress
        .correlation_id
        .unwrap_or_else(|| crate::saga::default_correlation_id(G::SAGA_TYPE, saga_id))
}
