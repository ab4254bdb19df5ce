//! The state machine: a saga's recorded events folded into where it stands and what it must
//! do next. Pure, so every path (including recovery after a crash between any two events) is
//! decided the same way.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::events::SagaEvent;
use super::{StepInfo, StepKind};
use crate::retry::RetryPolicy;

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
pub struct SagaLog {
    /// The saga instance's id.
    pub saga_id: String,
    /// The saga's data as last recorded.
    pub data: Value,
    /// The stream version the log includes.
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
    /// The last attempt of this step failed and nothing was decided since.
    pending_failure: Option<(usize, u32)>,
    /// The last attempt of this compensation failed, with this error.
    pending_compensation_failure: Option<(usize, u32, String)>,
}

/// What the executor must do next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NextAction {
    /// Run step `index` as attempt `attempt`, after waiting out the retry backoff if any.
    RunStep { index: usize, attempt: u32 },
    /// Record `CompensationStarted` for the failure at step `index`.
    StartCompensation { index: usize },
    /// Run the compensation of step `index` as attempt `attempt`.
    Compensate { index: usize, attempt: u32 },
    /// Record the end of the saga.
    Finish(SagaEvent),
    /// Nothing: the saga has ended.
    Done,
}

impl SagaLog {
    /// A log of no events.
    pub fn empty() -> Self {
        Self {
            saga_id: String::new(),
            data: Value::Null,
            version: 0,
            phase: SagaPhase::NotStarted,
            completed: Vec::new(),
            compensated: HashSet::new(),
            failure: None,
            step_attempts: HashMap::new(),
            compensation_attempts: HashMap::new(),
            pending_failure: None,
            pending_compensation_failure: None,
        }
    }

    /// Folds one more event (the stream's next version) into the log.
    pub fn record(&mut self, event: &SagaEvent) {
        self.version += 1;
        match event {
            SagaEvent::SagaStarted { saga_id, data } => {
                self.saga_id.clone_from(saga_id);
                self.data = data.clone();
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
                self.pending_failure = Some((*index, *attempt));
                self.failure = Some((step.clone(), error.clone()));
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
                index,
                attempt,
                error,
                data,
                ..
            } => {
                self.update(data);
                self.compensation_attempts.insert(*index, *attempt);
                self.pending_compensation_failure = Some((*index, *attempt, error.clone()));
            }
            SagaEvent::SagaCompleted => self.phase = SagaPhase::Completed,
            SagaEvent::SagaCompensated => self.phase = SagaPhase::Compensated,
            SagaEvent::SagaFailed { reason } => {
                self.phase = SagaPhase::Failed {
                    reason: reason.clone(),
                }
            }
        }
    }

    fn update(&mut self, data: &Option<Value>) {
        if let Some(data) = data {
            self.data = data.clone();
        }
    }

    /// Whether a pivot step has completed: from then on the saga only goes forward.
    fn past_pivot(&self, steps: &[StepInfo]) -> bool {
        self.completed
            .iter()
            .any(|&index| steps.get(index).is_some_and(|s| s.kind == StepKind::Pivot))
    }

    /// The next completed, compensable, not yet compensated step, newest first.
    fn next_to_compensate(&self, steps: &[StepInfo]) -> Option<usize> {
        self.completed.iter().rev().copied().find(|index| {
            !self.compensated.contains(index)
                && steps.get(*index).is_some_and(StepInfo::is_compensable)
        })
    }

    /// Decides what comes next.
    pub(crate) fn next_action(
        &self,
        steps: &[StepInfo],
        forward_retry: &RetryPolicy,
        compensation_retry: &RetryPolicy,
    ) -> NextAction {
        match &self.phase {
            SagaPhase::NotStarted
            | SagaPhase::Completed
            | SagaPhase::Compensated
            | SagaPhase::Failed { .. } => NextAction::Done,
            SagaPhase::Running { next } => {
                let next = *next;
                match self.pending_failure {
                    Some((index, attempt)) if index == next => {
                        if !self.past_pivot(steps) {
                            NextAction::StartCompensation { index }
                        } else if forward_retry.allows_retry_after(attempt) {
                            NextAction::RunStep {
                                index,
                                attempt: attempt + 1,
                            }
                        } else {
                            let error = self.failure.as_ref().map_or("", |(_, e)| e.as_str());
                            NextAction::Finish(SagaEvent::SagaFailed {
                                reason: format!(
                                    "step `{}` failed after the pivot {attempt} times: {error}",
                                    step_name(steps, index)
                                ),
                            })
                        }
                    }
                    _ if next >= steps.len() => NextAction::Finish(SagaEvent::SagaCompleted),
                    _ => NextAction::RunStep {
                        index: next,
                        attempt: self.step_attempts.get(&next).map_or(1, |a| a + 1),
                    },
                }
            }
            SagaPhase::Compensating => match self.next_to_compensate(steps) {
                None => NextAction::Finish(SagaEvent::SagaCompensated),
                Some(index) => match &self.pending_compensation_failure {
                    Some((failed, attempt, error))
                        if *failed == index && !compensation_retry.allows_retry_after(*attempt) =>
                    {
                        NextAction::Finish(SagaEvent::SagaFailed {
                            reason: format!(
                                "compensation of step `{}` failed {attempt} times, last: {error}",
                                step_name(steps, index)
                            ),
                        })
                    }
                    _ => NextAction::Compensate {
                        index,
                        attempt: self.compensation_attempts.get(&index).map_or(1, |a| a + 1),
                    },
                },
            },
        }
    }

    /// The attempt count of a pending retry, for its backoff: the attempt that failed.
    pub(crate) fn failed_attempts_before(&self, action: &NextAction) -> u32 {
        match action {
            NextAction::RunStep { index, attempt } => match self.pending_failure {
                Some((failed, _)) if failed == *index => attempt - 1,
                _ => 0,
            },
            NextAction::Compensate { index, attempt } => match &self.pending_compensation_failure {
                Some((failed, _, _)) if failed == index => attempt - 1,
                _ => 0,
            },
            _ => 0,
        }
    }
}

fn step_name(steps: &[StepInfo], index: usize) -> &'static str {
    steps.get(index).map_or("?", |step| step.name)
}
