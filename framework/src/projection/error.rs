//! Why a projection stopped.

use uuid::Uuid;

use super::ProjectionKey;
use crate::store::StoreError;

/// Any error a handler returns, boxed: the default error type of a projection.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every way running a projection can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectionError {
    /// Reading the event log failed.
    #[error("reading the events of projection `{projection}` failed: {source}")]
    Store {
        /// The projection.
        projection: ProjectionKey,
        /// What the store said.
        #[source]
        source: Box<StoreError>,
    },
    /// The checkpoint store failed (its database is down, say).
    #[error("the checkpoint store failed: {0}")]
    Checkpoint(#[source] BoxError),
    /// A checkpoint write was refused: another runner took the projection over (a higher
    /// epoch), or the checkpoint is not where this runner expected. Nothing was committed.
    #[error(
        "projection `{projection}`: the checkpoint write of epoch {epoch} expecting position {expected} was refused; another runner holds it"
    )]
    Fenced {
        /// The projection.
        projection: ProjectionKey,
        /// The epoch of the refused claim.
        epoch: u64,
        /// The position it expected.
        expected: u64,
    },
    /// An event kept failing and the projection stopped before it (its state is
    /// [`Status::Failed`](super::Status::Failed)).
    #[error(
        "projection `{projection}` stopped at position {position} (event {event_id}, `{event_type}`) after {attempts} attempt(s): {error}"
    )]
    Failed {
        /// The projection.
        projection: ProjectionKey,
        /// The event's position.
        position: u64,
        /// The event's id.
        event_id: Uuid,
        /// The event's stored name.
        event_type: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last error.
        error: String,
    },
    /// A rebuild was asked of a projection that has no reset.
    #[error(
        "projection `{projection}` cannot be rebuilt: it has no reset; add `reset = method` to its `#[projection(...)]`, naming an async method that empties the read model"
    )]
    NotResettable {
        /// The projection.
        projection: ProjectionKey,
    },
    /// Another runner holds the projection's claim (for a one-off
    /// [`catch_up`](super::ProjectionRunner::catch_up) or rebuild; [`run`](super::ProjectionRunner::run)
    /// waits on standby instead).
    #[error("projection `{projection}` is held by another runner")]
    Held {
        /// The projection.
        projection: ProjectionKey,
    },
    /// The projection's `reset` or `activate` hook failed; nothing was committed.
    #[error("projection `{projection}`: its `{hook}` failed: {error}")]
    Hook {
        /// The projection.
        projection: ProjectionKey,
        /// Which hook.
        hook: &'static str,
        /// What it returned.
        #[source]
        error: BoxError,
    },
    /// A newer version of the projection is active; this one is not run any more.
    #[error("projection `{projection}` is retired: a newer version is active")]
    Retired {
        /// The projection.
        projection: ProjectionKey,
    },
}

impl ProjectionError {
    pub(crate) fn hook_failed(
        projection: &ProjectionKey,
        hook: &'static str,
        error: BoxError,
    ) -> Self {
        Self::Hook {
            projection: projection.clone(),
            hook,
            error,
        }
    }

    /// A checkpoint-store failure from any error.
    pub fn checkpoint(error: impl Into<BoxError>) -> Self {
        Self::Checkpoint(error.into())
    }
}
