//! What a saga must do next, decided from its progress, its steps and its retry policies: run
//! the next step (or retry one), start compensating, compensate the next completed step
//! (newest first), or record its end.

use super::{PendingFailure, SagaPhase, SagaProgress};
use crate::retry::RetryPolicy;
use crate::saga::events::SagaEvent;
use crate::saga::{StepInfo, StepKind};

/// What the executor must do next.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NextAction {
    /// Run step `index` as attempt `attempt`, after waiting out the retry backoff if any.
    RunStep { index: usize, attempt: u32 },
    /// Record `CompensationStarted` for the failure at step `index`.
    StartCompensation { index: usize },
    /// Run the compensation of step `index` as attempt `attempt`.
    Compensate { index: usize, attempt: u32 },
    /// Record a decision that runs nothing (a compensation giving up, the saga's end).
    Record(SagaEvent),
    /// Nothing: the saga has ended.
    Done,
}

impl SagaProgress {
    /// Whether a pivot step has completed: from then on the saga only goes forward.
    fn past_pivot(&self, steps: &[StepInfo]) -> bool {
        self.completed
            .iter()
            .any(|&index| steps.get(index).is_some_and(|s| s.kind == StepKind::Pivot))
    }

    /// The next step to compensate, newest first: one that completed or timed out (and so
    /// may have happened), is compensable, and is neither compensated nor given up on.
    fn next_to_compensate(&self, steps: &[StepInfo]) -> Option<usize> {
        self.timed_out
            .iter()
            .rev()
            .chain(self.completed.iter().rev())
            .copied()
            .find(|index| {
                !self.compensated.contains(index)
                    && !self.gave_up.iter().any(|g| g.index == *index)
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
            SagaPhase::Running { next } => self.next_forward(*next, steps, forward_retry),
            SagaPhase::Compensating => self.next_compensation(steps, compensation_retry),
        }
    }

    fn next_forward(&self, next: usize, steps: &[StepInfo], retry: &RetryPolicy) -> NextAction {
        let pending = self.pending_failure.filter(|p| p.index == next);
        let Some(PendingFailure {
            index,
            attempt,
            timed_out,
        }) = pending
        else {
            if next >= steps.len() {
                return NextAction::Record(SagaEvent::SagaCompleted);
            }
            return NextAction::RunStep {
                index: next,
                attempt: self.step_attempts.get(&next).map_or(1, |a| a + 1),
            };
        };
        let past_pivot = self.past_pivot(steps);
        let unknown_pivot =
            timed_out && steps.get(index).is_some_and(|s| s.kind == StepKind::Pivot);
        if !past_pivot && !unknown_pivot {
            return NextAction::StartCompensation { index };
        }
        if retry.allows_retry_after(attempt) {
            return NextAction::RunStep {
                index,
                attempt: attempt + 1,
            };
        }
        let name = step_name(steps, index);
        let reason = if past_pivot {
            let error = self.failure.as_ref().map_or("", |(_, e)| e.as_str());
            format!("step `{name}` failed after the pivot {attempt} times: {error}")
        } else {
            format!(
                "the outcome of the pivot step `{name}` is unknown: it timed out {attempt} times, \
                 so the steps before it are not compensated"
            )
        };
        NextAction::Record(SagaEvent::SagaFailed { reason })
    }

    fn next_compensation(&self, steps: &[StepInfo], retry: &RetryPolicy) -> NextAction {
        let Some(index) = self.next_to_compensate(steps) else {
            if self.gave_up.is_empty() {
                return NextAction::Record(SagaEvent::SagaCompensated);
            }
            let reasons: Vec<String> = self
                .gave_up
                .iter()
                .map(|g| {
                    format!(
                        "compensation of step `{}` failed {} times, last: {}",
                        step_name(steps, g.index),
                        g.attempts,
                        g.error
                    )
                })
                .collect();
            return NextAction::Record(SagaEvent::SagaFailed {
                reason: reasons.join("; "),
            });
        };
        match &self.pending_compensation_failure {
            Some(last) if last.index == index && !retry.allows_retry_after(last.attempts) => {
                NextAction::Record(SagaEvent::CompensationGaveUp {
                    step: step_name(steps, index).to_owned(),
                    index,
                    attempts: last.attempts,
                    error: last.error.clone(),
                })
            }
            _ => NextAction::Compensate {
                index,
                attempt: self.compensation_attempts.get(&index).map_or(1, |a| a + 1),
            },
        }
    }

    /// The attempt count of a pending retry, for its backoff: the attempt that failed.
    pub(crate) fn failed_attempts_before(&self, action: &NextAction) -> u32 {
        match action {
            NextAction::RunStep { index, attempt } => match self.pending_failure {
                Some(pending) if pending.index == *index => attempt - 1,
                _ => 0,
            },
            NextAction::Compensate { index, attempt } => match &self.pending_compensation_failure {
                Some(last) if last.index == *index => attempt - 1,
                _ => 0,
            },
            _ => 0,
        }
    }
}

fn step_name(steps: &[StepInfo], index: usize) -> &'static str {
    steps.get(index).map_or("?", |step| step.name)
}
