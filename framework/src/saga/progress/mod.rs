//! The state machine: a saga's recorded events folded into where it stands ([`SagaProgress`])
//! and, in [`next`], what it must do next. Pure, so every path (including recovery after a
//! crash between any two events) is decided the same way.

mod next;

use std::collections::{HashMap, HashSet};

use serde_json::Value;

pub(crate) use next::NextAction;

use super::events::SagaEvent;

/// Where a saga stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SagaPhase {
    /// Not started: the stream holds nothing.
    NotStarted,
    /// Running its steps forward; `next` is the step to run (or rerun).
    Running {
        /// The index of the next step.
        next: usize,
    },
    /// Undoing the completed steps in reverse order.
    Compensating,
    /// Ended: every step completed.
    Completed,
    /// Ended: every completed step was compensated.
    Compensated,
    /// Ended: it could not finish or be compensated.
    Failed {
        /// Why.
        reason: String,
    },
}

impl SagaPhase {
    /// Whether the saga has ended.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Compensated | Self::Failed { .. }
        )
    }
}

/// A saga's history folded into its current state.
#[derive(Debug, Clone, PartialEq)]
pub struct SagaProgress {
    /// The saga instance's id.
    pub saga_id: String,
    /// The saga's data as last recorded.
    pub data: Value,
    /// The correlation id it started with, if it was given one.
    pub correlation_id: Option<uuid::Uuid>,
    /// The stream version the progress includes.
    pub version: u64,
    /// Where it stands.
    pub phase: SagaPhase,
    /// The steps that completed, in the order they did.
    pub completed: Vec<usize>,
    /// The completed steps whose compensation succeeded.
    pub compensated: HashSet<usize>,
    /// The step failure that started compensation (or the newest one), and its error.
    pub failure: Option<(String, String)>,
    step_attempts: HashMap<usize, u32>,
    compensation_attempts: HashMap<usize, u32>,
    /// The last attempt of a step failed or timed out and nothing was decided since.
    pending_failure: Option<PendingFailure>,
    /// The last attempt of this compensation failed.
    pending_compensation_failure: Option<FailedCompensation>,
    /// Steps that timed out and never completed since: they may have happened, so they are
    /// compensated like completed ones.
    timed_out: Vec<usize>,
    /// Compensations that gave up, in the order they did.
    gave_up: Vec<FailedCompensation>,
    /// Where the saga stood when it failed, so a retry can go back there.
    failed_from: Option<SagaPhase>,
}

/// A step attempt that did not succeed, awaiting a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PendingFailure {
    index: usize,
    attempt: u32,
    /// It timed out: its outcome is unknown, rather than a refusal.
    timed_out: bool,
}

/// A compensation's failed attempt, or (in `gave_up`) its last one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FailedCompensation {
    index: usize,
    step: String,
    attempts: u32,
    error: String,
}

impl SagaProgress {
    /// The progress of a saga with no events yet.
    pub fn empty() -> Self {
        Self {
            saga_id: String::new(),
            data: Value::Null,
            correlation_id: None,
            version: 0,
            phase: SagaPhase::NotStarted,
            completed: Vec::new(),
            compensated: HashSet::new(),
            failure: None,
            step_attempts: HashMap::new(),
            compensation_attempts: HashMap::new(),
            pending_failure: None,
            pending_compensation_failure: None,
            timed_out: Vec::new(),
            gave_up: Vec::new(),
            failed_from: None,
        }
    }

    /// The steps whose compensation gave up and has not succeeded since, in the order they
    /// gave up. A saga that failed with any of these needs an operator, who can fix the
    /// participant and call `SagaExecutor::retry_failed`.
    pub fn failed_compensations(&self) -> Vec<String> {
        self.gave_up.iter().map(|g| g.step.clone()).collect()
    }

    /// The steps that timed out and have not completed since: their participants may have
    /// done the work.
    pub fn timed_out_steps(&self) -> &[usize] {
        &self.timed_out
    }

    /// Folds one more event (the stream's next version) into the progress.
    pub fn record(&mut self, event: &SagaEvent) {
        self.version += 1;
        match event {
            SagaEvent::SagaStarted {
                saga_id,
                data,
                correlation_id,
            } => {
                self.saga_id.clone_from(saga_id);
                self.data = data.clone();
                self.correlation_id = *correlation_id;
                self.phase = SagaPhase::Running { next: 0 };
            }
            SagaEvent::StepStarted { index, attempt, .. } => {
                self.step_attempts.insert(*index, *attempt);
                self.pending_failure = None;
                self.phase = SagaPhase::Running { next: *index };
            }
            SagaEvent::StepCompleted { index, data, .. } => {
                self.update(data);
                self.completed.push(*index);
                self.timed_out.retain(|timed_out| timed_out != index);
                self.phase = SagaPhase::Running { next: index + 1 };
            }
            SagaEvent::StepFailed {
                step,
                index,
                attempt,
                error,
                data,
            } => {
                self.update(data);
                self.pending_failure = Some(PendingFailure {
                    index: *index,
                    attempt: *attempt,
                    timed_out: false,
                });
                self.failure = Some((step.clone(), error.clone()));
            }
            SagaEvent::StepTimedOut {
                step,
                index,
                attempt,
                timeout_ms,
                data,
            } => {
                self.update(data);
                self.pending_failure = Some(PendingFailure {
                    index: *index,
                    attempt: *attempt,
                    timed_out: true,
                });
                let limit = std::time::Duration::from_millis(*timeout_ms);
                let error = format!("timed out after {limit:?}, outcome unknown");
                self.failure = Some((step.clone(), error));
                if !self.timed_out.contains(index) {
                    self.timed_out.push(*index);
                }
            }
            SagaEvent::CompensationStarted { failed_step, error } => {
                self.pending_failure = None;
                self.failure = Some((failed_step.clone(), error.clone()));
                self.phase = SagaPhase::Compensating;
            }
            SagaEvent::StepCompensated { index, data, .. } => {
                self.update(data);
                self.pending_compensation_failure = None;
                self.compensated.insert(*index);
            }
            SagaEvent::CompensationFailed {
                step,
                index,
                attempt,
                error,
                data,
            } => {
                self.update(data);
                self.compensation_attempts.insert(*index, *attempt);
                self.pending_compensation_failure = Some(FailedCompensation {
                    index: *index,
                    step: step.clone(),
                    attempts: *attempt,
                    error: error.clone(),
                });
            }
            SagaEvent::CompensationGaveUp {
                step,
                index,
                attempts,
                error,
            } => {
                self.pending_compensation_failure = None;
                self.gave_up.push(FailedCompensation {
                    index: *index,
                    step: step.clone(),
                    attempts: *attempts,
                    error: error.clone(),
                });
            }
            SagaEvent::SagaRetried => self.retry(),
            SagaEvent::SagaCompleted => self.phase = SagaPhase::Completed,
            SagaEvent::SagaCompensated => self.phase = SagaPhase::Compensated,
            SagaEvent::SagaFailed { reason } => self.fail(reason),
        }
    }

    fn fail(&mut self, reason: &str) {
        // Sagas recorded before `CompensationGaveUp` existed failed at the first
        // compensation that gave up, recorded only by its last `CompensationFailed`.
        if let (SagaPhase::Compensating, Some(last)) =
            (&self.phase, self.pending_compensation_failure.take())
        {
            self.gave_up.push(last);
        }
        if matches!(
            self.phase,
            SagaPhase::Running { .. } | SagaPhase::Compensating
        ) {
            self.failed_from = Some(self.phase.clone());
        }
        self.phase = SagaPhase::Failed {
            reason: reason.to_owned(),
        };
    }

    /// Back to where the saga failed, with fresh attempts for what failed there.
    fn retry(&mut self) {
        let Some(phase) = self.failed_from.take() else {
            return;
        };
        match phase {
            SagaPhase::Running { next } => {
                self.pending_failure = None;
                self.step_attempts.remove(&next);
            }
            _ => {
                for gave_up in self.gave_up.drain(..) {
                    self.compensation_attempts.remove(&gave_up.index);
                }
                self.pending_compensation_failure = None;
            }
        }
        self.phase = phase;
    }

    fn update(&mut self, data: &Option<Value>) {
        if let Some(data) = data {
            self.data = data.clone();
        }
    }
}
