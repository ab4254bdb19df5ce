//! What a repository operation can fail with.

use crate::aggregate::Aggregate;
use crate::store::StoreError;

/// Why a repository operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError<E: std::error::Error + 'static> {
    /// The aggregate rejected the command. Never retried.
    #[error("command rejected: {0}")]
    Rejected(#[source] E),
    /// The store failed, or the stream is corrupt, or a conflict outlived the retry policy.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event the aggregate produced does not serialize.
    #[error("event `{event_type}` does not serialize: {source}")]
    Encode {
        /// The event's stored name.
        event_type: &'static str,
        /// serde's reason.
        #[source]
        source: serde_json::Error,
    },
    /// An event names another instance as its own ([`Aggregate::event_instance`]) than the
    /// one whose stream it was about to be stored in: a create command whose `id` field
    /// differs from the id it was executed on. Nothing was stored. Never retried.
    #[error(
        "refused to store an event in stream `{stream}`: it belongs to stream `{named}`; \
         execute the command on the id it names, or give it the id it is executed on"
    )]
    WrongInstance {
        /// The stream the event was about to be stored in.
        stream: String,
        /// The stream of the instance the event names.
        named: String,
    },
}

impl<E: std::error::Error + 'static> RepositoryError<E> {
    /// The domain error, if the aggregate rejected the command.
    pub fn rejection(&self) -> Option<&E> {
        match self {
            Self::Rejected(error) => Some(error),
            _ => None,
        }
    }

    /// Whether this is a concurrency conflict (that outlived the retry policy).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Store(StoreError::ConcurrencyConflict { .. }))
    }
}

/// The result type of repository operations on aggregate `A`.
pub type RepositoryResult<T, A> = Result<T, RepositoryError<<A as Aggregate>::Error>>;
