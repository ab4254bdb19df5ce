//! Sagas: a sequence of steps across aggregates or services, each with a compensation, run
//! durably by a [`SagaExecutor`].
//!
//! A saga is a plain serializable struct holding its data. `#[derive(Saga)]` names it and
//! its services; `#[saga_steps]` on its `impl` block marks the steps, in order, with their
//! compensations:
//!
//! - `#[step(compensate = undo)]`: if a later step fails, `undo` runs;
//! - `#[step(pivot)]`: the point of no return. If it fails, the steps before it are
//!   compensated; once it has completed, a later failure is retried forward, never
//!   compensated;
//! - `#[step(no_compensation)]`: nothing to undo (a read, a notification).
//!
//! A step is an `async fn(&mut self, &Services, StepKey) -> Result<(), E>` for any
//! displayable `E`; the [`StepKey`] is stable per saga and step, so a participant can
//! de-duplicate a step that runs again after a crash.
//!
//! The executor records every transition as a [`SagaEvent`] in the saga's own stream, so
//! [`SagaExecutor::recover`] can resume any saga a crashed process left unfinished.
//!
//! # Timeouts: an unknown outcome
//!
//! A step that runs past its timeout (`#[step(timeout_ms = N)]` or
//! [`SagaExecutor::with_step_timeout`]) is recorded as [`SagaEvent::StepTimedOut`]. Its
//! participant may have done the work and only the answer was lost, so:
//!
//! - before the pivot, the saga is compensated, and the timed-out step is compensated too
//!   (first, being the newest), with its compensation [`StepKey`]. A compensation must
//!   therefore succeed when there is nothing to undo;
//! - a pivot that times out is neither compensated blindly nor taken as failed: it runs
//!   again with the same key, as the forward retry policy allows, until its participant
//!   answers. A success goes on forward, a refusal compensates the steps before it, and a
//!   pivot that keeps timing out ends the saga in `SagaFailed` (nothing compensated) for an
//!   operator, who can [`retry`](SagaExecutor::retry_failed) it;
//! - after the pivot, a timed-out step is retried forward like a failed one;
//! - a compensation that times out is a failed attempt, retried.
//!
//! # Failed compensations
//!
//! A compensation that keeps failing is retried per
//! [`with_compensation_retry`](SagaExecutor::with_compensation_retry), then recorded as
//! [`SagaEvent::CompensationGaveUp`], and the compensations of the earlier steps still run.
//! The saga then ends in `SagaFailed`; [`SagaOutcome::Failed`] lists the compensations that
//! failed. Once their participant is fixed, [`SagaExecutor::retry_failed`] runs only those
//! again, with the same keys. `resume` and `recover` leave a failed saga as it is.
//!
//! # Recovery next to running executors
//!
//! [`SagaExecutor::recover`] leaves alone a saga whose last transition is younger than
//! [`with_takeover_after`](SagaExecutor::with_takeover_after) (30 s by default): an
//! executor records a transition before and after every step, so a younger saga is
//! presumably being driven elsewhere. The age comes from the stored events' times, so no
//! lease or heartbeat is written; the threshold must exceed the longest step timeout plus
//! retry backoff. An executor that loses its saga's stream to another anyway (its next
//! append conflicts) stops, reads the stream and returns the saga's outcome if the other
//! ended it, else [`SagaError::Contended`] with where it stands. A saga whose stream cannot
//! be read is reported in the [`Recovery`] and does not stop the others.

mod encoding;
mod error;
mod events;
mod executor;
mod outcome;
mod progress;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use uuid::Uuid;

use crate::event::Metadata;

pub use error::{RecoveryError, SagaError};
pub use events::SagaEvent;
pub use executor::SagaExecutor;
pub use outcome::{Recovery, SagaOutcome};
pub use progress::{SagaPhase, SagaProgress};

/// A saga's data and identity. Implemented by `#[derive(Saga)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a saga",
    label = "`{Self}` needs `#[derive(Saga)]`",
    note = "add `#[derive(Saga)]` (with serde's `Serialize` and `Deserialize`) to the struct holding the saga's data"
)]
pub trait Saga: crate::checks::SagaData {
    /// The saga's stored name: the stream prefix and aggregate type of its events. Stored
    /// forever, so keep it stable.
    const SAGA_TYPE: &'static str;
    /// What the steps may call: repositories, clients, clocks.
    type Services: Send + Sync + 'static;
}

/// A saga's ordered steps and their dispatch. Implemented by `#[saga_steps]` on the saga's
/// `impl` block.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no steps",
    label = "`{Self}` needs its steps declared",
    note = "add `#[aggregato::saga_steps]` to an `impl {Self} {{ .. }}` block whose step methods carry `#[step(..)]`"
)]
pub trait SagaSteps: Saga {
    /// The steps, in the order they run.
    const STEPS: &'static [StepInfo];

    /// Runs step number `step` (an index into [`SagaSteps::STEPS`]).
    fn run_step<'a>(
        &'a mut self,
        step: usize,
        services: &'a Self::Services,
        key: StepKey,
    ) -> impl Future<Output = Result<(), StepError>> + Send + 'a;

    /// Runs the compensation of step number `step`. A step without one succeeds at once.
    fn compensate_step<'a>(
        &'a mut self,
        step: usize,
        services: &'a Self::Services,
        key: StepKey,
    ) -> impl Future<Output = Result<(), StepError>> + Send + 'a;
}

/// What the macros know about one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepInfo {
    /// The step's name (its method name), stored in the saga's events.
    pub name: &'static str,
    /// How a failure later in the saga treats this step.
    pub kind: StepKind,
    /// How long one run of the step (or its compensation) may take; `None`: the executor's
    /// default. A step past it has an unknown outcome (see the module docs).
    pub timeout: Option<Duration>,
}

/// How a step is undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Undone by the named compensation method.
    Compensable {
        /// The compensation's method name.
        compensation: &'static str,
    },
    /// The point of no return: after it completes, failures are retried forward.
    Pivot,
    /// Nothing to undo.
    NoCompensation,
}

impl StepInfo {
    /// Whether this step has a compensation to run.
    pub fn is_compensable(&self) -> bool {
        matches!(self.kind, StepKind::Compensable { .. })
    }
}

/// Whether a key is for running a step or for compensating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepAction {
    /// The step itself.
    Run,
    /// Its compensation.
    Compensate,
}

/// An idempotency key, the same every time the same step (or compensation) of the same saga
/// instance runs, including after a crash. A participant that records the keys it has seen
/// can turn a repeated call into a no-op; an aggregate command becomes idempotent with
/// [`Repository::execute_idempotent`](crate::Repository::execute_idempotent), given the key
/// and [`StepKey::metadata`], which also carries the saga's correlation id on to the
/// command's events:
///
/// ```text
/// shop.stock.execute_idempotent(&sku, command, key.as_str(), key.metadata()).await?;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StepKey {
    key: String,
    step: &'static str,
    action: StepAction,
    correlation_id: Uuid,
}

impl StepKey {
    /// The key for `action` of `step` in the saga instance `saga_id` of type `saga_type`.
    pub fn new(saga_type: &str, saga_id: &str, step: &'static str, action: StepAction) -> Self {
        let suffix = match action {
            StepAction::Run => "",
            StepAction::Compensate => "/compensate",
        };
        Self {
            key: format!("{saga_type}/{saga_id}/{step}{suffix}"),
            step,
            action,
            correlation_id: default_correlation_id(saga_type, saga_id),
        }
    }

    /// The same key in a saga that carries `correlation_id`.
    #[must_use]
    pub fn with_correlation_id(mut self, correlation_id: Uuid) -> Self {
        self.correlation_id = correlation_id;
        self
    }

    /// The correlation id of the saga: the one it was started with, else one derived from
    /// its type and id (the same in every process and after a crash).
    pub fn correlation_id(&self) -> Uuid {
        self.correlation_id
    }

    /// The metadata of a command this step sends: the saga's correlation id, so every event
    /// the saga causes shares it.
    pub fn metadata(&self) -> Metadata {
        Metadata::new().with_correlation_id(self.correlation_id)
    }

    /// The key as a string, e.g. `PlaceOrder/order-7/charge_card`.
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The step's name.
    pub fn step(&self) -> &'static str {
        self.step
    }

    /// Whether this key is for the step or its compensation.
    pub fn action(&self) -> StepAction {
        self.action
    }
}

impl fmt::Display for StepKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

/// Why a step or compensation failed, as recorded in the saga's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    message: String,
}

impl StepError {
    /// A failure described by `reason`.
    pub fn new(reason: impl fmt::Display) -> Self {
        Self {
            message: reason.to_string(),
        }
    }

    /// The recorded description.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for StepError {
    fn from(message: String) -> Self {
        Self { message }
    }
}

impl From<&str> for StepError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

/// The usual return type of a step: `Ok(())` or a [`StepError`]. Steps may return
/// `Result<(), E>` for any displayable `E` instead.
pub type StepResult<E = StepError> = Result<(), E>;

/// What a step method may return: `Result<(), E>` with a displayable error.
#[diagnostic::on_unimplemented(
    message = "a saga step must return `Result<(), E>` with `E: Display`, not `{Self}`",
    note = "write the step as `async fn name(&mut self, services: &Services, key: StepKey) -> aggregato::saga::StepResult`"
)]
pub trait IntoStepResult {
    /// Converts into the executor's form.
    fn into_step_result(self) -> Result<(), StepError>;
}

impl<E: fmt::Display> IntoStepResult for Result<(), E> {
    fn into_step_result(self) -> Result<(), StepError> {
        self.map_err(StepError::new)
    }
}

/// A step index the dispatch does not know: the stored history names a step this build lacks.
pub fn unknown_step(saga_type: &str, step: usize) -> StepError {
    StepError::new(format!("saga `{saga_type}` has no step number {step}"))
}

/// The correlation id of a saga started without one: a name-based UUID of its type and id.
pub(crate) fn default_correlation_id(saga_type: &str, saga_id: &str) -> Uuid {
    /// Fixed forever: the ids derived from it are stored.
    const NAMESPACE: Uuid = Uuid::from_u128(0x2d7e_51a0_c4b3_4f19_8a62_e0f5_37c9_b1d4);
    Uuid::new_v5(
        &NAMESPACE,
        format!("saga\n{saga_type}\n{saga_id}").as_bytes(),
    )
}
