//! Runs saga instances: each transition is appended to the saga's stream before the next
//! action, so the stream alone says where to resume.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::events::SagaEvent;
use super::log::{NextAction, SagaLog, SagaPhase};
use super::{SagaSteps, StepAction, StepError, StepKey};
use crate::retry::RetryPolicy;
use crate::store::{EventStore, ExpectedVersion, StoreError};

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
    /// The saga could neither finish nor be compensated: it needs attention.
    Failed {
        /// The final data.
        data: G,
        /// Why.
        reason: String,
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
    /// Another executor appended to the saga's stream meanwhile: it is driving the saga now,
    /// and this one stopped without running anything twice.
    #[error("saga `{saga_id}` is being driven by another executor")]
    Contended {
        /// The saga instance.
        saga_id: String,
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

type Observer = dyn Fn(&str, &SagaEvent) + Send + Sync;

/// Runs sagas of type `G`, recording them in the store `S`.
pub struct SagaExecutor<G: SagaSteps, S> {
    store: S,
    services: Arc<G::Services>,
    forward_retry: RetryPolicy,
    compensation_retry: RetryPolicy,
    step_timeout: Option<Duration>,
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
            .finish_non_exhaustive()
    }
}

impl<G: SagaSteps, S: EventStore> SagaExecutor<G, S> {
    /// An executor whose steps receive `services`.
    ///
    /// Defaults: steps after a pivot are retried up to 5 times and compensations up to 5
    /// times, waiting 10 ms doubling to 1 s; no step timeout.
    pub fn new(store: S, services: G::Services) -> Self {
        let patient =
            RetryPolicy::exponential(5, Duration::from_millis(10), Duration::from_secs(1));
        Self {
            store,
            services: Arc::new(services),
            forward_retry: patient,
            compensation_retry: patient,
            step_timeout: None,
            observer: None,
        }
    }

    /// How often a step that fails after the pivot is run again before the saga fails.
    pub fn with_forward_retry(mut self, policy: RetryPolicy) -> Self {
        self.forward_retry = policy;
        self
    }

    /// How often a failing compensation is run again before the saga fails.
    pub fn with_compensation_retry(mut self, policy: RetryPolicy) -> Self {
        self.compensation_retry = policy;
        self
    }

    /// The timeout of steps (and compensations) that declare none: after it, the run counts
    /// as failed.
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

    /// Starts a new saga instance `saga_id` with `data` and runs it to its end.
    pub async fn start(&self, saga_id: &str, data: G) -> Result<SagaOutcome<G>, SagaError> {
        let started = SagaEvent::SagaStarted {
            saga_id: saga_id.to_owned(),
            data: self.encode(saga_id, &data)?,
        };
        let mut log = SagaLog::empty();
        match self
            .append(saga_id, &mut log, ExpectedVersion::NoStream, started)
            .await
        {
            Err(SagaError::Contended { .. }) => Err(SagaError::AlreadyStarted {
                saga_id: saga_id.to_owned(),
            }),
            Err(other) => Err(other),
            Ok(()) => self.drive(saga_id, log, data).await,
        }
    }

    /// Continues the saga instance `saga_id` from its recorded history to its end. An ended
    /// saga returns its outcome without running anything.
    pub async fn resume(&self, saga_id: &str) -> Result<SagaOutcome<G>, SagaError> {
        let (log, _) = self.history(saga_id).await?;
        if log.phase == SagaPhase::NotStarted {
            return Err(SagaError::NotFound {
                saga_id: saga_id.to_owned(),
            });
        }
        let data = self.decode(saga_id, &log.data)?;
        self.drive(saga_id, log, data).await
    }

    /// Finds every saga of this type whose stream has no terminal event and resumes it.
    /// Returns each one's id and how it went; a failure to resume one does not stop the
    /// others.
    ///
    /// It scans the global log for this saga type's streams.
    pub async fn recover(
        &self,
    ) -> Result<Vec<(String, Result<SagaOutcome<G>, SagaError>)>, SagaError> {
        let mut unfinished: Vec<String> = Vec::new();
        let mut finished = std::collections::HashSet::new();
        let mut after = 0;
        loop {
            let page = self.store.read_all(after, 1_000).await?;
            let Some(last) = page.last() else { break };
            after = last.position;
            for envelope in page.iter().filter(|e| e.aggregate_type == G::SAGA_TYPE) {
                let event = SagaEvent::from_envelope(envelope)?;
                match event {
                    SagaEvent::SagaStarted { saga_id, .. } => unfinished.push(saga_id),
                    event if event.is_terminal() => {
                        finished.insert(envelope.stream_id.clone());
                    }
                    _ => {}
                }
            }
        }
        unfinished.retain(|saga_id| !finished.contains(&Self::stream_id(saga_id)));
        let mut outcomes = Vec::with_capacity(unfinished.len());
        for saga_id in unfinished {
            tracing::info!(saga = G::SAGA_TYPE, %saga_id, "recovering unfinished saga");
            let outcome = self.resume(&saga_id).await;
            outcomes.push((saga_id, outcome));
        }
        Ok(outcomes)
    }

    /// The recorded history of `saga_id`, folded and as events.
    pub async fn history(&self, saga_id: &str) -> Result<(SagaLog, Vec<SagaEvent>), SagaError> {
        let stream = Self::stream_id(saga_id);
        let envelopes = self.store.read_stream(&stream, 1).await?;
        let mut log = SagaLog::empty();
        let mut events = Vec::with_capacity(envelopes.len());
        for envelope in &envelopes {
            let event = SagaEvent::from_envelope(envelope)?;
            self.check_step(saga_id, &event)?;
            log.record(&event);
            events.push(event);
        }
        Ok((log, events))
    }

    /// Runs the saga from `log` until it ends, recording each transition first.
    async fn drive(
        &self,
        saga_id: &str,
        mut log: SagaLog,
        mut data: G,
    ) -> Result<SagaOutcome<G>, SagaError> {
        loop {
            let action = log.next_action(G::STEPS, &self.forward_retry, &self.compensation_retry);
            match action {
                NextAction::Done => return self.outcome(saga_id, &log, data),
                NextAction::Finish(event) => {
                    self.append_next(saga_id, &mut log, event).await?;
                }
                NextAction::StartCompensation { index } => {
                    let (failed_step, error) = log.failure.clone().unwrap_or_else(|| {
                        (step_name::<G>(index).to_owned(), String::from("unknown"))
                    });
                    let event = SagaEvent::CompensationStarted { failed_step, error };
                    self.append_next(saga_id, &mut log, event).await?;
                }
                NextAction::RunStep { index, attempt } => {
                    let failed_before = log.failed_attempts_before(&action);
                    if failed_before > 0 {
                        wait(self.forward_retry.backoff(failed_before)).await;
                    }
                    let step = step_name::<G>(index);
                    let started = SagaEvent::StepStarted {
                        step: step.to_owned(),
                        index,
                        attempt,
                    };
                    self.append_next(saga_id, &mut log, started).await?;
                    let key = StepKey::new(G::SAGA_TYPE, saga_id, step, StepAction::Run);
                    let (result, changed) = self
                        .run(saga_id, &mut data, index, StepAction::Run, key)
                        .await?;
                    let event = match result {
                        Ok(()) => SagaEvent::StepCompleted {
                            step: step.to_owned(),
                            index,
                            data: changed,
                        },
                        Err(error) => SagaEvent::StepFailed {
                            step: step.to_owned(),
                            index,
                            attempt,
                            error: error.to_string(),
                            data: changed,
                        },
                    };
                    self.append_next(saga_id, &mut log, event).await?;
                }
                NextAction::Compensate { index, attempt } => {
                    let failed_before = log.failed_attempts_before(&action);
                    if failed_before > 0 {
                        wait(self.compensation_retry.backoff(failed_before)).await;
                    }
                    let step = step_name::<G>(index);
                    let key = StepKey::new(G::SAGA_TYPE, saga_id, step, StepAction::Compensate);
                    let (result, changed) = self
                        .run(saga_id, &mut data, index, StepAction::Compensate, key)
                        .await?;
                    let event = match result {
                        Ok(()) => SagaEvent::StepCompensated {
                            step: step.to_owned(),
                            index,
                            data: changed,
                        },
                        Err(error) => SagaEvent::CompensationFailed {
                            step: step.to_owned(),
                            index,
                            attempt,
                            error: error.to_string(),
                            data: changed,
                        },
                    };
                    self.append_next(saga_id, &mut log, event).await?;
                }
            }
        }
    }

    /// Runs a step or compensation under its timeout; returns its result and the data if
    /// the run changed it.
    async fn run(
        &self,
        saga_id: &str,
        data: &mut G,
        index: usize,
        action: StepAction,
        key: StepKey,
    ) -> Result<(Result<(), StepError>, Option<Value>), SagaError> {
        let before = self.encode(saga_id, data)?;
        let declared = G::STEPS.get(index).and_then(|info| info.timeout);
        let timeout = declared.or(self.step_timeout);
        let services = self.services.as_ref();
        let run = async {
            match action {
                StepAction::Run => data.run_step(index, services, key).await,
                StepAction::Compensate => data.compensate_step(index, services, key).await,
            }
        };
        let result = match timeout {
            None => run.await,
            Some(limit) => tokio::time::timeout(limit, run)
                .await
                .unwrap_or_else(|_| Err(StepError::new(format!("timed out after {limit:?}")))),
        };
        let after = self.encode(saga_id, data)?;
        Ok((result, (after != before).then_some(after)))
    }

    async fn append_next(
        &self,
        saga_id: &str,
        log: &mut SagaLog,
        event: SagaEvent,
    ) -> Result<(), SagaError> {
        let expected = ExpectedVersion::Exact(log.version);
        self.append(saga_id, log, expected, event).await
    }

    async fn append(
        &self,
        saga_id: &str,
        log: &mut SagaLog,
        expected: ExpectedVersion,
        event: SagaEvent,
    ) -> Result<(), SagaError> {
        let new_event = event
            .to_new_event(G::SAGA_TYPE)
            .map_err(|source| SagaError::Data {
                saga_id: saga_id.to_owned(),
                source,
            })?;
        match self
            .store
            .append(&Self::stream_id(saga_id), expected, vec![new_event])
            .await
        {
            Ok(_) => {}
            Err(StoreError::ConcurrencyConflict { .. }) => {
                return Err(SagaError::Contended {
                    saga_id: saga_id.to_owned(),
                });
            }
            Err(other) => return Err(other.into()),
        }
        tracing::debug!(saga = G::SAGA_TYPE, %saga_id, event = event.event_type(), "saga transition recorded");
        log.record(&event);
        if let Some(observer) = &self.observer {
            observer(saga_id, &event);
        }
        Ok(())
    }

    fn outcome(&self, saga_id: &str, log: &SagaLog, data: G) -> Result<SagaOutcome<G>, SagaError> {
        Ok(match &log.phase {
            SagaPhase::Completed => SagaOutcome::Completed { data },
            SagaPhase::Compensated => {
                let (failed_step, error) = log.failure.clone().unwrap_or_default();
                SagaOutcome::Compensated {
                    data,
                    failed_step,
                    error,
                }
            }
            SagaPhase::Failed { reason } => SagaOutcome::Failed {
                data,
                reason: reason.clone(),
            },
            // `drive` only stops at an end.
            SagaPhase::NotStarted | SagaPhase::Running { .. } | SagaPhase::Compensating => {
                return Err(SagaError::NotFound {
                    saga_id: saga_id.to_owned(),
                });
            }
        })
    }

    /// A recorded step must be the declared step at that position.
    fn check_step(&self, saga_id: &str, event: &SagaEvent) -> Result<(), SagaError> {
        let (step, index) = match event {
            SagaEvent::StepStarted { step, index, .. }
            | SagaEvent::StepCompleted { step, index, .. }
            | SagaEvent::StepFailed { step, index, .. }
            | SagaEvent::StepCompensated { step, index, .. }
            | SagaEvent::CompensationFailed { step, index, .. } => (step, *index),
            _ => return Ok(()),
        };
        let declared = G::STEPS.get(index).map_or("?", |info| info.name);
        if declared == step {
            Ok(())
        } else {
            Err(SagaError::StepsChanged {
                saga_id: saga_id.to_owned(),
                index,
                recorded: step.clone(),
                declared: declared.to_owned(),
            })
        }
    }

    fn encode(&self, saga_id: &str, data: &G) -> Result<Value, SagaError> {
        serde_json::to_value(data).map_err(|source| SagaError::Data {
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

/// The declared name of step `index`. The log only yields indexes that `check_step` matched
/// against the declared steps, so the fallback is never recorded in practice.
fn step_name<G: SagaSteps>(index: usize) -> &'static str {
    G::STEPS.get(index).map_or("?", |info| info.name)
}

/// Waits out a retry backoff; a zero backoff only yields.
async fn wait(backoff: Duration) {
    if backoff.is_zero() {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(backoff).await;
    }
}
