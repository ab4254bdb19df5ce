//! The events a saga's stream records: every transition, so a saga can be audited and
//! rebuilt. How they are stored (and how the older form is still read) is `encoding.rs`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One transition of a saga instance. `data` fields carry the saga's data where the
/// transition changed it (`None`: unchanged).
///
/// Stored like any aggregate's events (it is an [`EventSet`](crate::EventSet)): the variant's
/// name in the event type, its fields as the payload. Its serde form, `{"type": variant,
/// ..fields}`, is how sagas were stored before (schema version 1), still read back.
/// Stored forever: a variant's fields never change; new transitions are new variants, so
/// this enum is `#[non_exhaustive]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum SagaEvent {
    /// The saga began with `data`.
    SagaStarted {
        /// The saga instance's id.
        saga_id: String,
        /// The initial data.
        data: Value,
        /// The correlation id every event the saga causes carries: inherited from what
        /// started it, or (when absent) one derived from the saga's type and id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        correlation_id: Option<uuid::Uuid>,
    },
    /// A step began (again, when `attempt` > 1).
    StepStarted {
        /// The step's name.
        step: String,
        /// Its position in the saga, from 0.
        index: usize,
        /// 1 for the first run; a rerun after a crash or a forward retry counts up.
        attempt: u32,
    },
    /// A step finished successfully.
    StepCompleted {
        /// The step's name.
        step: String,
        /// Its position in the saga, from 0.
        index: usize,
        /// The data after the step, if it changed.
        data: Option<Value>,
    },
    /// A step failed: its participant answered with an error, so the step did not happen.
    /// (Before `StepTimedOut` existed, timeouts were recorded this way too.)
    StepFailed {
        /// The step's name.
        step: String,
        /// Its position in the saga, from 0.
        index: usize,
        /// Which attempt failed.
        attempt: u32,
        /// Why.
        error: String,
        /// The data after the failed run, if it changed.
        data: Option<Value>,
    },
    /// A step ran past its timeout: whether its participant did the work is unknown. Before
    /// the pivot a compensable step that timed out is compensated along with the completed
    /// ones; a timed-out pivot is run again with the same key until its answer is definite.
    StepTimedOut {
        /// The step's name.
        step: String,
        /// Its position in the saga, from 0.
        index: usize,
        /// Which attempt timed out.
        attempt: u32,
        /// The timeout it ran past, in milliseconds.
        timeout_ms: u64,
        /// The data after the interrupted run, if it changed.
        data: Option<Value>,
    },
    /// A step failed before the pivot: the completed steps are undone in reverse order.
    CompensationStarted {
        /// The step whose failure started it.
        failed_step: String,
        /// Its error.
        error: String,
    },
    /// A completed step was undone.
    StepCompensated {
        /// The step's name.
        step: String,
        /// Its position in the saga, from 0.
        index: usize,
        /// The data after the compensation, if it changed.
        data: Option<Value>,
    },
    /// A compensation attempt failed; it is retried as the policy allows.
    CompensationFailed {
        /// The step whose compensation failed.
        step: String,
        /// Its position in the saga, from 0.
        index: usize,
        /// Which attempt failed.
        attempt: u32,
        /// Why.
        error: String,
        /// The data after the failed attempt, if it changed.
        data: Option<Value>,
    },
    /// A compensation failed as often as the retry policy allows: it is left for an
    /// operator, and the compensations of the earlier steps still run. The saga ends in
    /// `SagaFailed` once they have.
    CompensationGaveUp {
        /// The step whose compensation failed.
        step: String,
        /// Its position in the saga, from 0.
        index: usize,
        /// How many attempts failed.
        attempts: u32,
        /// The last attempt's error.
        error: String,
    },
    /// An operator asked to retry a failed saga (`SagaExecutor::retry_failed`): it goes back
    /// to where it failed, and the compensations that gave up (or the step that kept
    /// failing) run again with the same keys, their attempts counted from 1 again.
    SagaRetried,
    /// Every step completed.
    SagaCompleted,
    /// Every completed step was compensated after a failure.
    SagaCompensated,
    /// The saga could neither finish nor be fully compensated; it needs a human.
    SagaFailed {
        /// Why.
        reason: String,
    },
}

impl SagaEvent {
    /// The stored event type: the variant's name.
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::SagaStarted { .. } => "SagaStarted",
            Self::StepStarted { .. } => "StepStarted",
            Self::StepCompleted { .. } => "StepCompleted",
            Self::StepFailed { .. } => "StepFailed",
            Self::StepTimedOut { .. } => "StepTimedOut",
            Self::CompensationStarted { .. } => "CompensationStarted",
            Self::StepCompensated { .. } => "StepCompensated",
            Self::CompensationFailed { .. } => "CompensationFailed",
            Self::CompensationGaveUp { .. } => "CompensationGaveUp",
            Self::SagaRetried => "SagaRetried",
            Self::SagaCompleted => "SagaCompleted",
            Self::SagaCompensated => "SagaCompensated",
            Self::SagaFailed { .. } => "SagaFailed",
        }
    }

    /// Whether the saga ends with this event.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::SagaCompleted | Self::SagaCompensated | Self::SagaFailed { .. }
        )
    }
}
