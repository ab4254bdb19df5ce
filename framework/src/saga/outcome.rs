//! What a [`SagaExecutor`](super::SagaExecutor) reports when it is done with sagas: how one
//! ended ([`SagaOutcome`]), and what a recovery did with each unfinished one ([`Recovery`]).
//! Why it could not go on is `error.rs`.

use super::error::RecoveryError;

/// How a saga instance ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SagaOutcome<G> {
    /// Every step completed.
    Completed {
        /// The final data.
        data: G,
    },
    /// A step failed and every completed step was compensated.
    Compensated {
        /// The final data.
        data: G,
        /// The step that failed.
        failed_step: String,
        /// Its error.
        error: String,
    },
    /// The saga could neither finish nor be compensated: it needs attention. Once the cause
    /// is fixed, [`SagaExecutor::retry_failed`](super::SagaExecutor::retry_failed) takes it
    /// from where it failed.
    Failed {
        /// The final data.
        data: G,
        /// Why.
        reason: String,
        /// The steps whose compensation failed as often as the policy allowed (the other
        /// compensations ran); empty when the saga failed going forward.
        failed_compensations: Vec<String>,
    },
}

impl<G> SagaOutcome<G> {
    /// The saga's final data.
    pub fn data(&self) -> &G {
        match self {
            Self::Completed { data }
            | Self::Compensated { data, .. }
            | Self::Failed { data, .. } => data,
        }
    }
}

/// What one [`SagaExecutor::recover`](super::SagaExecutor::recover) did, saga by saga.
#[derive(Debug)]
pub struct Recovery<G> {
    /// The unfinished sagas it resumed, each with its id and how it ended. (A saga another
    /// executor ended meanwhile is here too, with that executor's outcome.)
    pub resumed: Vec<(String, SagaOutcome<G>)>,
    /// The sagas it could not read or resume: a corrupt stream, steps that changed, a store
    /// failure. The others were recovered all the same.
    pub failed: Vec<RecoveryError>,
    /// Unfinished sagas whose last transition is younger than the takeover threshold
    /// ([`SagaExecutor::with_takeover_after`](super::SagaExecutor::with_takeover_after)):
    /// another executor is presumably running them, so they were left alone. A later
    /// `recover` takes them if they stay quiet.
    pub left_running: Vec<String>,
}

impl<G> Default for Recovery<G> {
    fn default() -> Self {
        Self {
            resumed: Vec::new(),
            failed: Vec::new(),
            left_running: Vec::new(),
        }
    }
}

impl<G> Recovery<G> {
    /// Whether every unfinished saga was either resumed or left to its running executor.
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty()
    }
}
