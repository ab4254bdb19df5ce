//! Reading a page of the log and handing it to the projection, batch by batch, with retries
//! and the projection's failure policy.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::ProjectionRunner;
use crate::event::RecordedEvent;
use crate::projection::{
    BoxError, CheckpointStore, Context, Failure, OnFailure, ProjectedEvent, Projection,
    ProjectionError,
};
use crate::store::{EventStore, StoreError};

/// One event of a page: read and decoded, or not readable at all.
pub(super) enum Item<E> {
    /// Its envelope, and its payload decoded (or why it could not be).
    Event {
        envelope: RecordedEvent,
        event: Result<E, String>,
    },
    /// The store could not read it (its metadata, say): what the error names of it.
    Unreadable {
        position: u64,
        stream_id: String,
        version: u64,
        error: String,
    },
}

impl<E> Item<E> {
    fn position(&self) -> u64 {
        match self {
            Self::Event { envelope, .. } => envelope.position,
            Self::Unreadable { position, .. } => *position,
        }
    }
}

/// Why a slice of a page was not committed.
enum SliceError {
    /// The event at this index of the page failed; `retryable` is false when trying again
    /// cannot help (it does not decode).
    Handler {
        index: usize,
        error: String,
        retryable: bool,
    },
    /// The checkpoint store refused or failed: nothing was committed.
    Checkpoint(ProjectionError),
}

/// The event that keeps failing, and how often it did.
struct Failing {
    position: u64,
    attempts: u32,
    error: String,
    retryable: bool,
}

/// An error and its sources, as one line.
pub(super) fn error_chain(error: &BoxError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl<S, C, P> ProjectionRunner<S, C, P>
where
    S: EventStore,
    C: CheckpointStore<Transaction = P::Transaction>,
    P: Projection,
{
    /// Reads the next page of the projection's events after its checkpoint. (Borrows only
    /// the store and the filter: a `&self` held across the read would make the run's future
    /// need a `Sync` projection.)
    pub(super) async fn read_page(
        store: &S,
        filter: &crate::store::EventFilter,
        limit: usize,
        key: &crate::projection::ProjectionKey,
        after: u64,
    ) -> Result<Vec<Item<P::Event>>, ProjectionError> {
        let mut items = Vec::new();
        let read = store
            .visit_all(after, limit, filter, &mut |stored| {
                let event = <P::Event as ProjectedEvent>::from_stored(&stored)
                    .map_err(|error| error.to_string());
                items.push(Item::Event {
                    envelope: stored.to_envelope(()),
                    event,
                });
                Ok(())
            })
            .await;
        match read {
            Ok(()) => Ok(items),
            // What was read before an unreadable event goes first; the next read meets it.
            Err(_) if !items.is_empty() => Ok(items),
            Err(StoreError::Corrupt {
                stream,
                version,
                position: Some(position),
                reason,
            }) => Ok(vec![Item::Unreadable {
                position,
                stream_id: stream,
                version,
                error: reason.to_string(),
            }]),
            Err(source) => Err(ProjectionError::Store {
                projection: key.clone(),
                source: Box::new(source),
            }),
        }
    }

    /// Hands a batch to the projection and commits it, in one transaction unless an event
    /// fails: the events before it commit, the failing one is retried with backoff and then
    /// given up on as the projection says (stop, or dead-letter and go on).
    pub(super) async fn handle_batch(
        &mut self,
        items: &[Item<P::Event>],
    ) -> Result<(), ProjectionError> {
        let mut start = 0;
        let mut end = items.len();
        let mut failing: Option<Failing> = None;
        while start < items.len() {
            if let Some(fail) = failing
                .as_ref()
                .filter(|fail| fail.position == items[start].position())
            {
                if !fail.retryable || !self.config.retry.allows_retry_after(fail.attempts) {
                    self.give_up(&items[start], fail).await?;
                    start += 1;
                    end = items.len();
                    failing = None;
                    continue;
                }
                let wait = self.config.retry.backoff(fail.attempts);
                tracing::warn!(
                    projection = %self.key,
                    position = fail.position,
                    attempt = fail.attempts,
                    error = %fail.error,
                    "projection handler failed; retrying in {wait:?}"
                );
                sleep(wait).await;
            }
            match self.commit_slice(items, start, end, true).await {
                Ok(()) => {
                    start = end;
                    end = items.len();
                }
                Err(SliceError::Checkpoint(error)) => return Err(error),
                Err(SliceError::Handler {
                    index,
                    error,
                    retryable,
                }) => {
                    let position = items[index].position();
                    let attempts = match &failing {
                        Some(fail) if fail.position == position => fail.attempts + 1,
                        _ => 1,
                    };
                    failing = Some(Failing {
                        position,
                        attempts,
                        error,
                        retryable,
                    });
                    if index > start {
                        if C::ROLLS_BACK_HANDLERS {
                            // The rollback undid the events before it: handle them again,
                            // on their own.
                            end = index;
                        } else {
                            // Their effects stand: commit the checkpoint past them without
                            // handing them out again. (Only the projection's flush can fail
                            // here; then the loop tries again from the batch's start.)
                            match self.commit_slice(items, start, index, false).await {
                                Ok(()) => start = index,
                                Err(SliceError::Checkpoint(error)) => return Err(error),
                                Err(SliceError::Handler { .. }) => {}
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Handles `items[start..end]` in one transaction, flushes the projection and moves the
    /// checkpoint to the last of them; with `dispatch` false, only flushes and moves the
    /// checkpoint. A failed flush fails the whole slice (reported at its first event).
    async fn commit_slice(
        &mut self,
        items: &[Item<P::Event>],
        start: usize,
        end: usize,
        dispatch: bool,
    ) -> Result<(), SliceError> {
        let Some(claim) = self.claim.clone() else {
            return Err(SliceError::Checkpoint(self.not_claimed()));
        };
        let mut batch = self
            .checkpoints
            .begin()
            .await
            .map_err(SliceError::Checkpoint)?;
        let mut replaying = false;
        if dispatch {
            for (index, item) in items.iter().enumerate().take(end).skip(start) {
                let outcome = match item {
                    Item::Unreadable { error, .. } => Err((error.clone(), false)),
                    Item::Event {
                        event: Err(error), ..
                    } => Err((error.clone(), false)),
                    Item::Event {
                        envelope,
                        event: Ok(event),
                    } => {
                        replaying = envelope.position <= claim.replay_until;
                        let transaction = C::transaction(&mut batch);
                        let mut context = Context::new(envelope, transaction, replaying);
                        self.projection
                            .dispatch(event.clone(), &mut context)
                            .await
                            .map_err(|error| {
                                let retryable = !P::is_permanent(&error);
                                (error_chain(&error.into()), retryable)
                            })
                    }
                };
                if let Err((error, retryable)) = outcome {
                    roll_back(&self.checkpoints, &self.key, batch).await;
                    return Err(SliceError::Handler {
                        index,
                        error,
                        retryable,
                    });
                }
            }
        }
        if let Err(error) = self.projection.flush(C::transaction(&mut batch)).await {
            roll_back(&self.checkpoints, &self.key, batch).await;
            let retryable = !P::is_permanent(&error);
            return Err(SliceError::Handler {
                index: start,
                error: error_chain(&error.into()),
                retryable,
            });
        }
        let from = claim.position;
        let to = items[end - 1].position();
        if let Err(error) = self
            .checkpoints
            .advance(&mut batch, &claim, from, to, self.config.lease)
            .await
        {
            roll_back(&self.checkpoints, &self.key, batch).await;
            return Err(SliceError::Checkpoint(error));
        }
        self.checkpoints
            .commit(batch)
            .await
            .map_err(SliceError::Checkpoint)?;
        self.committed(to, (end - start) as u64, replaying);
        Ok(())
    }

    /// Gives up on the event `item` as the projection says: stops in the failed state, or
    /// records a dead letter and moves the checkpoint past it, in one transaction.
    async fn give_up(
        &mut self,
        item: &Item<P::Event>,
        fail: &Failing,
    ) -> Result<(), ProjectionError> {
        let Some(claim) = self.claim.clone() else {
            return Err(self.not_claimed());
        };
        let failure = failure_of(item, fail);
        match P::ON_FAILURE {
            OnFailure::Stop => {
                tracing::error!(
                    projection = %self.key,
                    position = failure.position,
                    event_id = %failure.event_id,
                    error = %failure.error,
                    "projection stopped at an event that keeps failing"
                );
                self.checkpoints.mark_failed(&claim, &failure).await?;
                Err(ProjectionError::Failed {
                    projection: self.key.clone(),
                    position: failure.position,
                    event_id: failure.event_id,
                    event_type: failure.event_type,
                    attempts: failure.attempts,
                    error: failure.error,
                })
            }
            OnFailure::DeadLetter => {
                tracing::warn!(
                    projection = %self.key,
                    position = failure.position,
                    event_id = %failure.event_id,
                    error = %failure.error,
                    "projection dead-lettered an event that keeps failing"
                );
                let mut batch = self.checkpoints.begin().await?;
                let written = async {
                    self.checkpoints
                        .dead_letter(&mut batch, &self.key, &failure)
                        .await?;
                    self.checkpoints
                        .advance(
                            &mut batch,
                            &claim,
                            claim.position,
                            failure.position,
                            self.config.lease,
                        )
                        .await
                }
                .await;
                if let Err(error) = written {
                    roll_back(&self.checkpoints, &self.key, batch).await;
                    return Err(error);
                }
                self.checkpoints.commit(batch).await?;
                self.committed(failure.position, 0, false);
                Ok(())
            }
        }
    }
}

/// Rolls `batch` back; a failure to is only logged, as the error that led here matters more
/// (and the server rolls back a transaction whose connection is gone).
pub(super) async fn roll_back<C: CheckpointStore>(
    checkpoints: &C,
    key: &crate::projection::ProjectionKey,
    batch: C::Batch,
) {
    if let Err(error) = checkpoints.rollback(batch).await {
        tracing::warn!(projection = %key, %error, "rolling a projection batch back failed");
    }
}

fn failure_of<E>(item: &Item<E>, fail: &Failing) -> Failure {
    let (position, event_id, stream_id, version, event_type) = match item {
        Item::Event { envelope, .. } => (
            envelope.position,
            envelope.event_id,
            envelope.stream_id.clone(),
            envelope.version,
            envelope.event_type.clone(),
        ),
        Item::Unreadable {
            position,
            stream_id,
            version,
            ..
        } => (
            *position,
            Uuid::nil(),
            stream_id.clone(),
            *version,
            String::new(),
        ),
    };
    Failure {
        position,
        event_id,
        stream_id,
        version,
        event_type,
        error: fail.error.clone(),
        attempts: fail.attempts,
        failed_at: OffsetDateTime::now_utc(),
    }
}

async fn sleep(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}
