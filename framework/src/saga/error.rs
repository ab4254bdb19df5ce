//! Why a [`SagaExecutor`](super::SagaExecutor) could not drive a saga ([`SagaError`]), and
//! which saga a recovery left behind and why ([`RecoveryError`]).

use super::progress::SagaPhase;
use crate::store::StoreError;

/// Why the executor could not drive a saga.
#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    /// `start` with an id whose stream already exists.
    #[error("saga `{saga_id}` was already started")]
    AlreadyStarted {
        /// The saga instance.
        saga_id: String,
    },
    /// `resume` with an id that has no stream.
    #[error("saga `{saga_id}` does not exist")]
    NotFound {
        /// The saga instance.
        saga_id: String,
    },
    /// Another executor appended to the saga's stream meanwhile and has not ended the saga
    /// yet: it is driving the saga now, and this one stopped without recording anything
    /// twice. (When the other one has already ended the saga, its outcome is returned
    /// instead of this error.)
    #[error("saga `{saga_id}` is being driven by another executor (it stands at {phase:?})")]
    Contended {
        /// The saga instance.
        saga_id: String,
        /// Where the saga stood, as read after losing it.
        phase: SagaPhase,
    },
    /// The saga's data does not serialize, or the recorded data no longer deserializes.
    #[error("the data of saga `{saga_id}` does not (de)serialize: {source}")]
    Data {
        /// The saga instance.
        saga_id: String,
        /// serde's reason.
        #[source]
        source: serde_json::Error,
    },
    /// The stream names a step this build of the saga does not have at that position.
    #[error(
        "saga `{saga_id}` recorded step `{recorded}` at position {index}, but the saga's step there is `{declared}`"
    )]
    StepsChanged {
        /// The saga instance.
        saga_id: String,
        /// The position.
        index: usize,
        /// The recorded step name.
        recorded: String,
        /// The declared step name (`?` when there is none).
        declared: String,
    },
    /// The store failed or the saga's stream is corrupt.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One saga [`SagaExecutor::recover`](super::SagaExecutor::recover) could not recover, and why.
#[derive(Debug, thiserror::Error)]
#[error("saga `{saga_id}` (stream `{stream}`) was not recovered: {source}")]
pub struct RecoveryError {
    /// The saga instance.
    pub saga_id: String,
    /// Its stream.
    pub stream: String,
    /// What is wrong: for a corrupt stream, a [`SagaError::Store`] naming the version.
    #[source]
    pub source: SagaError,
}
