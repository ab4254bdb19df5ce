//! Runs saga instances: each transition is appended to the saga's stream before the next
//! action, so the stream alone says where to resume.
//!
//! This file holds the executor, its settings and its public entry points (start, resume,
//! retry) and records transitions. Driving a saga step by step is `drive.rs`, reading a saga's
//! stream back is `history.rs`, finding and resuming unfinished sagas is `recover.rs`.

mod drive;
mod history;
mod recover;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use super::SagaSteps;
use super::error::SagaError;
use super::events::SagaEvent;
use super::outcome::SagaOutcome;
use super::progress::{SagaPhase, SagaProgress};
use crate::event::{Metadata, NewEvent};
use crate::retry::RetryPolicy;
use crate::store::{EventStore, ExpectedVersion, StoreError};

type Observer = dyn Fn(&str, &SagaEvent) + Send + Sync;

/// Runs sagas of type `G`, recording them in the store `S`.
pub struct SagaExecutor<G: SagaSteps, S> {
    store: S,
    services: Arc<G::Services>,
    forward_retry: RetryPolicy,
    compensation_retry: RetryPolicy,
    step_timeout: Option<Duration>,
    takeover_after: Duration,
    observer: Option<Arc<Observer>>,
}

impl<G: SagaSteps, S: Clone> Clone for SagaExecutor<G, S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            services: Arc::clone(&self.services),
            forward_retry: self.forward_retry,
            compensation_retry: self.compensation_retry,
            step_timeout: self.step_timeout,
            takeover_after: self.takeover_after,
            observer: self.observer.clone(),
        }
    }
}

impl<G: SagaSteps, S> std::fmt::Debug for SagaExecutor<G, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SagaExecutor")
            .field("saga", &G::SAGA_TYPE)
            .field("forward_retry", &self.forward_retry)
            .field("compensation_retry", &self.compensation_retry)
            .field("step_timeout", &self.step_timeout)
            .field("takeover_after", &self.takeover_after)
            .finish_non_exhaustive()
    }
}

impl<G: SagaSteps, S: EventStore> SagaExecutor<G, S> {
    /// An executor whose steps receive `services`.
    ///
    /// Defaults: steps after a pivot (and a pivot that timed out) are retried up to 5 times
    /// and compensations up to 5 times, waiting 10 ms doubling to 1 s; no step timeout;
    /// [`recover`](Self::recover) takes over a saga after 30 s without a transition.
    pub fn new(store: S, services: G::Services) -> Self {
        let patient =
            RetryPolicy::exponential(5, Duration::from_millis(10), Duration::from_secs(1));
        Self {
            store,
            services: Arc::new(services),
            forward_retry: patient,
            compensation_retry: patient,
            step_timeout: None,
            takeover_after: DEFAULT_TAKEOVER_AFTER,
            observer: None,
        }
    }

    /// How long a saga must have recorded no transition before [`recover`](Self::recover)
    /// takes it over; younger ones are presumed running in another executor and left alone.
    ///
    /// The age is that of the last event in the saga's stream, by the time the store
    /// recorded it (PostgreSQL: the server's clock; SQLite and in-memory: the appending
    /// process's clock), against this process's clock. Choose it longer than the longest
    /// step or compensation timeout plus the longest retry backoff, plus any clock skew
    /// between the machines: an executor records a transition before and after every run,
    /// so a saga quiet for longer is not being driven. A step without a timeout can be
    /// quiet for as long as it runs: give such steps a timeout. `Duration::ZERO` takes over
    /// every unfinished saga, for a process that knows it is the only executor (a restart
    /// of the only instance).
    pub fn with_takeover_after(mut self, threshold: Duration) -> Self {
        self.takeover_after = threshold;
        self
    }

    /// How often a step that fails after the pivot is run again before the saga fails.
    pub fn with_forward_retry(mut self, policy: RetryPolicy) -> Self {
        self.forward_retry = policy;
        self
    }

    /// How often a failing compensation is run again before it gives up; the earlier
    /// steps' compensations still run, and the saga then ends failed, naming it.
    pub fn with_compensation_retry(mut self, policy: RetryPolicy) -> Self {
        self.compensation_retry = policy;
        self
    }

    /// The timeout of steps (and compensations) that declare none. A step that runs past it
    /// may or may not have happened: before the pivot it is compensated too; a pivot is
    /// run again with its key. A compensation past it is a failed attempt, retried.
    pub fn with_step_timeout(mut self, timeout: Duration) -> Self {
        self.step_timeout = Some(timeout);
        self
    }

    /// Calls `observer` with each transition right after it is recorded, e.g. to print the
    /// saga's progress.
    pub fn with_observer(
        mut self,
        observer: impl Fn(&str, &SagaEvent) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The stream of the saga instance `saga_id`.
    pub fn stream_id(saga_id: &str) -> String {
        format!("{}-{saga_id}", G::SAGA_TYPE)
    }

    /// Starts a new saga instance `saga_id` with `data` and runs it to its end. Its events,
    /// and those of the commands its steps send with [`StepKey::metadata`], share a
    /// correlation id derived from the saga's type and id; see
    /// [`start_correlated`](Self::start_correlated) to inherit one.
    ///
    /// [`StepKey::metadata`]: crate::saga::StepKey::metadata
    pub async fn start(&self, saga_id: &str, data: G) -> Result<SagaOutcome<G>, SagaError> {
        self.start_with(saga_id, data, None).await
    }

    /// [`start`](Self::start), the saga carrying on `correlation_id`: that of the event or
    /// request that started it, so one trace runs from it through every step.
    pub async fn start_correlated(
        &self,
        saga_id: &str,
        data: G,
        correlation_id: Uuid,
    ) -> Result<SagaOutcome<G>, SagaError> {
        self.start_with(saga_id, data, Some(correlation_id)).await
    }

    async fn start_with(
        &self,
        saga_id: &str,
        data: G,
        correlation_id: Option<Uuid>,
    ) -> Result<SagaOutcome<G>, SagaError> {
        let started = SagaEvent::SagaStarted {
            saga_id: saga_id.to_owned(),
            data: self.encode(saga_id, &data)?,
            correlation_id,
        };
        let mut progress = SagaProgress::empty();
        match self
            .append(saga_id, &mut progress, ExpectedVersion::NoStream, started)
            .await
        {
            Err(SagaError::Contended { .. }) => Err(SagaError::AlreadyStarted {
                saga_id: saga_id.to_owned(),
            }),
            Err(other) => Err(other),
            Ok(()) => self.drive(saga_id, progress, data).await,
        }
    }

    /// Continues the saga instance `saga_id` from its recorded history to its end. An ended
    /// saga returns its outcome without running anything; a failed one stays failed (see
    /// [`retry_failed`](Self::retry_failed)).
    ///
    /// `resume` does not ask whether another executor is running the saga: it is for a
    /// caller who knows. If another executor does record a transition first, this one stops
    /// and reports the saga's outcome once ended, [`SagaError::Contended`] if not.
    pub async fn resume(&self, saga_id: &str) -> Result<SagaOutcome<G>, SagaError> {
        let progress = self.read(saga_id).await?;
        self.resume_from(saga_id, progress).await
    }

    /// Retries a saga that ended failed, once an operator has fixed the cause: the saga goes
    /// back to where it failed (recording `SagaRetried`) and runs on from there. After a
    /// failed compensation only the compensations that gave up run again, with the same
    /// keys, each with a fresh round of the compensation retry policy; after a failure
    /// going forward (a step after the pivot, or a pivot whose outcome stayed unknown) that
    /// step runs again with its key. A saga that has not failed is resumed as by
    /// [`resume`](Self::resume).
    pub async fn retry_failed(&self, saga_id: &str) -> Result<SagaOutcome<G>, SagaError> {
        let mut progress = self.read(saga_id).await?;
        if matches!(progress.phase, SagaPhase::Failed { .. }) {
            tracing::info!(saga = G::SAGA_TYPE, %saga_id, "retrying failed saga");
            match self
                .append_next(saga_id, &mut progress, SagaEvent::SagaRetried)
                .await
            {
                Err(SagaError::Contended { .. }) => return self.settled_elsewhere(saga_id).await,
                other => other?,
            }
        }
        self.resume_from(saga_id, progress).await
    }

    async fn resume_from(
        &self,
        saga_id: &str,
        progress: SagaProgress,
    ) -> Result<SagaOutcome<G>, SagaError> {
        if progress.phase == SagaPhase::NotStarted {
            return Err(SagaError::NotFound {
                saga_id: saga_id.to_owned(),
            });
        }
        let data = self.decode(saga_id, &progress.data)?;
        self.drive(saga_id, progress, data).await
    }

    async fn append_next(
        &self,
        saga_id: &str,
        progress: &mut SagaProgress,
        event: SagaEvent,
    ) -> Result<(), SagaError> {
        let expected = ExpectedVersion::Exact(progress.version);
        self.append(saga_id, progress, expected, event).await
    }

    async fn append(
        &self,
        saga_id: &str,
        progress: &mut SagaProgress,
        expected: ExpectedVersion,
        event: SagaEvent,
    ) -> Result<(), SagaError> {
        let correlation_id = match &event {
            SagaEvent::SagaStarted {
                correlation_id: Some(id),
                ..
            } => *id,
            _ => drive::correlation_id::<G>(saga_id, progress),
        };
        let metadata = Metadata::new().with_correlation_id(correlation_id);
        let new_event =
            NewEvent::encode(G::SAGA_TYPE, &event, metadata).map_err(|source| SagaError::Data {
                saga_id: saga_id.to_owned(),
                source,
            })?;
        let stream = Self::stream_id(saga_id);
        match crate::trace::append(&self.store, &stream, expected, vec![new_event]).await {
            Ok(_) => {}
            Err(StoreError::ConcurrencyConflict { .. }) => {
                return Err(SagaError::Contended {
                    saga_id: saga_id.to_owned(),
                    phase: progress.phase.clone(),
                });
            }
            Err(other) => return Err(other.into()),
        }
        tracing::debug!(saga = G::SAGA_TYPE, %saga_id, event = event.event_type(), "saga transition recorded");
        progress.record(&event);
        if let Some(observer) = &self.observer {
            observer(saga_id, &event);
        }
        Ok(())
    }

    fn encode(&self, saga_id: &str, data: &G) -> Result<Value, SagaError> {
        crate::event::to_payload(data).map_err(|source| SagaError::Data {
            saga_id: saga_id.to_owned(),
            source,
        })
    }

    fn decode(&self, saga_id: &str, data: &Value) -> Result<G, SagaError> {
        G::deserialize(data).map_err(|source| SagaError::Data {
            saga_id: saga_id.to_owned(),
            source,
        })
    }
}

/// How long `recover` leaves alone a saga that recorded a transition, by default.
const DEFAULT_TAKEOVER_AFTER: Duration = Duration::from_secs(30);
