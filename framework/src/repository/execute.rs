//! Executing a command: load (or take the cached state), decide, append expecting the loaded
//! version, retry on a conflict, idempotently under a key; each command in a `tracing` span.

use tracing::Instrument as _;
use uuid::Uuid;

use super::{Repository, RepositoryError, RepositoryResult, idempotency, wait};
use crate::aggregate::Aggregate;
use crate::event::{EventEnvelope, Metadata};
use crate::store::{EventStore, StoreError};

impl<A: Aggregate, S: EventStore> Repository<A, S> {
    /// Executes `command` (named `name` in traces), idempotently when `key` is given, in a
    /// `command` span.
    pub(super) async fn run(
        &self,
        id: &A::Id,
        command: A::Command,
        name: &'static str,
        metadata: Metadata,
        key: Option<&str>,
    ) -> RepositoryResult<Vec<EventEnvelope<A::Event>>, A> {
        let stream = A::stream_id(id);
        let command_id = metadata.causation_id.unwrap_or_else(|| {
            key.map_or_else(Uuid::now_v7, |key| idempotency::command_id(&stream, key))
        });
        let correlation_id = metadata.correlation_id.unwrap_or(command_id);
        let metadata = Metadata {
            causation_id: Some(command_id),
            correlation_id: Some(correlation_id),
            ..metadata
        };
        let span = tracing::info_span!(
            "command",
            aggregate_type = A::AGGREGATE_TYPE,
            stream_id = %stream,
            command = name,
            command_id = %command_id,
            correlation_id = %correlation_id,
            idempotency_key = key,
            expected_version = tracing::field::Empty,
            committed_version = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let result = self
            .decide_and_append(id, command, &stream, &metadata, key)
            .instrument(span.clone())
            .await;
        match &result {
            Ok(events) => {
                if let Some(last) = events.last() {
                    span.record("committed_version", last.version);
                }
                span.record("outcome", "committed");
            }
            Err(RepositoryError::Rejected(_)) => {
                span.record("outcome", "rejected");
            }
            Err(_) => {
                span.record("outcome", "failed");
            }
        }
        result
    }

    /// The attempts of one command: load, decide, append, until it commits, is rejected or
    /// runs out of retries.
    async fn decide_and_append(
        &self,
        id: &A::Id,
        command: A::Command,
        stream: &str,
        metadata: &Metadata,
        key: Option<&str>,
    ) -> RepositoryResult<Vec<EventEnvelope<A::Event>>, A> {
        let stream = stream.to_owned();
        let mut attempt = 1;
        // Only the first attempt may start from the cache: once it proved stale (or lost a
        // race), later attempts load from the store.
        let mut use_cache = true;
        loop {
            if let Some(key) = key
                && let Some(stored) =
                    idempotency::stored_before::<A, S>(&self.store, &stream, key).await?
            {
                return Ok(stored);
            }
            let (mut root, from_cache) = self.start(id, &stream, use_cache).await?;
            use_cache = false;
            tracing::Span::current().record("expected_version", root.loaded_version());
            let decided = root
                .handle(command.clone(), &self.services)
                .await
                .map(<[_]>::is_empty);
            if let Some(key) = key {
                root.name_uncommitted_ids(|index| idempotency::event_id(&stream, key, index));
            }
            // A rejection, or a decision to change nothing, leaves no trace in the store, so
            // the version check cannot catch a stale state behind it. Decided on a cached
            // state, it only stands if the stream has not moved on since; otherwise decide
            // again on a fresh load (the cached state is gone: it was taken).
            if !matches!(decided, Ok(false))
                && from_cache
                && self.is_behind(&stream, root.loaded_version()).await?
            {
                tracing::debug!(%stream, "cached state was behind its stream; reloading");
                continue;
            }
            if let Err(rejection) = decided {
                self.keep(stream, root);
                return Err(RepositoryError::Rejected(rejection));
            }
            let first_new = root.loaded_version() + 1;
            match self.append_uncommitted(&stream, &mut root, metadata).await {
                // Under a key, the store may answer with the batch a racing execution under
                // the same key stored first (same ids): that one is the command's outcome,
                // and this state, decided on the older one, is dropped.
                Ok(events)
                    if key.is_some()
                        && events
                            .first()
                            .is_some_and(|event| event.version != first_new) =>
                {
                    if let Some(cache) = &self.cache {
                        cache.forget(&stream);
                    }
                    let key = key.unwrap_or_default();
                    let stored =
                        idempotency::stored_before::<A, S>(&self.store, &stream, key).await?;
                    return Ok(stored.unwrap_or_default());
                }
                Ok(events) => {
                    self.keep(stream, root);
                    return Ok(events);
                }
                // A stale cached state is not the caller's contention: retried on a fresh load
                // without counting against the policy.
                Err(RepositoryError::Store(StoreError::ConcurrencyConflict { .. }))
                    if from_cache =>
                {
                    tracing::debug!(%stream, "cached state was behind its stream; reloading");
                }
                Err(RepositoryError::Store(StoreError::ConcurrencyConflict {
                    stream,
                    expected,
                    actual,
                })) if self.retry.allows_retry_after(attempt) => {
                    let backoff = self.retry.backoff(attempt);
                    tracing::debug!(
                        %stream, %expected, actual, attempt, ?backoff,
                        "concurrency conflict; retrying from a fresh load"
                    );
                    wait(backoff).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}
