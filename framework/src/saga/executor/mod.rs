//! Runs saga instances: each transition is appended to the saga's stream before the next
//! action, so the stream alone says where to resume.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;

use super::events::SagaEvent;
use super::log::{NextAction, SagaLog, SagaPhase};
use super::{SagaSteps, StepAction, StepError, StepKey};
use crate::event::EventEnvelope;
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
    /// The saga could neither finish nor be compensated: it needs attention. Once the cause
    /// is fixed, [`SagaExecutor::retry_failed`] takes it from where it failed.
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

/// What one [`SagaExecutor::recover`] did, saga by saga.
#[derive(Debug)]
pub struct Recovery<G> {
    /// The unfinished sagas it resumed, each with its id and how it ended. (A saga another
    /// executor ended meanwhile is here too, with that executor's outcome.)
    pub resumed: Vec<(String, SagaOutcome<G>)>,
    /// The sagas it could not read or resume: a corrupt stream, steps that changed, a store
    /// failure. The others were recovered all the same.
    pub failed: Vec<RecoveryError>,
    /// Unfinished sagas whose last transition is younger than the takeover threshold
    /// ([`SagaExecutor::with_takeover_after`]): another executor is presumably running
    /// them, so they were left alone. A later `recover` takes them if they stay quiet.
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

/// One saga [`SagaExecutor::recover`] could not recover, and why.
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

/// How a step or compensation run ended.
enum RunResult {
    Done,
    Refused(StepError),
    /// Interrupted at its timeout: its participant may or may not have done the work.
    TimedOut(Duration),
}

/// What the global log says of one saga stream.
enum Scanned {
    Unfinished,
    Ended,
    Unreadable(StoreError),
}

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
    /// saga returns its outcome without running anything; a failed one stays failed (see
    /// [`retry_failed`](Self::retry_failed)).
    ///
    /// `resume` does not ask whether another executor is running the saga: it is for a
    /// caller who knows. If another executor does record a transition first, this one stops
    /// and reports the saga's outcome once ended, [`SagaError::Contended`] if not.
    pub async fn resume(&self, saga_id: &str) -> Result<SagaOutcome<G>, SagaError> {
        let (log, _) = self.read(saga_id).await?;
        self.resume_from(saga_id, log).await
    }

    /// Retries a saga that ended failed, once an operator has fixed the cause: the saga goes
    /// back to where it failed (recording `SagaRetried`) and runs on from there. After a
    /// failed compensation only the compensations that gave up run again, with the same
    /// keys, each with a fresh round of the compensation retry policy; after a failure
    /// going forward (a step after the pivot, or a pivot whose outcome stayed unknown) that
    /// step runs again with its key. A saga that has not failed is resumed as by
    /// [`resume`](Self::resume).
    pub async fn retry_failed(&self, saga_id: &str) -> Result<SagaOutcome<G>, SagaError> {
        let (mut log, _) = self.read(saga_id).await?;
        if matches!(log.phase, SagaPhase::Failed { .. }) {
            tracing::info!(saga = G::SAGA_TYPE, %saga_id, "retrying failed saga");
            match self
                .append_next(saga_id, &mut log, SagaEvent::SagaRetried)
                .await
            {
                Err(SagaError::Contended { .. }) => return self.settled_elsewhere(saga_id).await,
                other => other?,
            }
        }
        self.resume_from(saga_id, log).await
    }

    async fn resume_from(&self, saga_id: &str, log: SagaLog) -> Result<SagaOutcome<G>, SagaError> {
        if log.phase == SagaPhase::NotStarted {
            return Err(SagaError::NotFound {
                saga_id: saga_id.to_owned(),
            });
        }
        let data = self.decode(saga_id, &log.data)?;
        self.drive(saga_id, log, data).await
    }

    /// Finds every saga of this type whose stream has no terminal event and resumes it,
    /// unless another executor is presumably running it (see
    /// [`with_takeover_after`](Self::with_takeover_after)). A failure to read or resume one
    /// does not stop the others: the [`Recovery`] lists what was resumed, what was left
    /// running and what could not be recovered, and why.
    ///
    /// It scans the global log for this saga type's streams. It fails as a whole only when
    /// the global log cannot be read.
    pub async fn recover(&self) -> Result<Recovery<G>, SagaError> {
        self.warn_if_takeover_too_soon();
        let mut recovery = Recovery::default();
        for (stream, scanned) in self.scan().await? {
            let saga_id = Self::saga_id_of(&stream).to_owned();
            let result = match scanned {
                Scanned::Ended => continue,
                Scanned::Unreadable(error) => Err(SagaError::Store(error)),
                Scanned::Unfinished => self.resume_unless_running(&saga_id).await,
            };
            match result {
                Ok(Some(outcome)) => recovery.resumed.push((saga_id, outcome)),
                Ok(None) => recovery.left_running.push(saga_id),
                Err(source) => {
                    tracing::warn!(saga = G::SAGA_TYPE, %saga_id, error = %source, "saga not recovered");
                    recovery.failed.push(RecoveryError {
                        saga_id,
                        stream,
                        source,
                    });
                }
            }
        }
        Ok(recovery)
    }

    /// Every stream of this saga type in the global log, in order of first appearance, and
    /// whether its latest event ends it. A stream with an unreadable event is unreadable.
    async fn scan(&self) -> Result<Vec<(String, Scanned)>, SagaError> {
        let mut order: Vec<String> = Vec::new();
        let mut streams: HashMap<String, Scanned> = HashMap::new();
        let mut after = 0;
        loop {
            let page = self.store.read_all(after, 1_000).await?;
            let Some(last) = page.last() else { break };
            after = last.position;
            for envelope in page.iter().filter(|e| e.aggregate_type == G::SAGA_TYPE) {
                let state = match streams.get_mut(&envelope.stream_id) {
                    Some(state) => state,
                    None => {
                        order.push(envelope.stream_id.clone());
                        streams
                            .entry(envelope.stream_id.clone())
                            .or_insert(Scanned::Unfinished)
                    }
                };
                if matches!(state, Scanned::Unreadable(_)) {
                    continue;
                }
                *state = match SagaEvent::from_envelope(envelope) {
                    Err(error) => Scanned::Unreadable(error),
                    Ok(event) if event.is_terminal() => Scanned::Ended,
                    Ok(_) => Scanned::Unfinished,
                };
            }
        }
        Ok(order
            .into_iter()
            .filter_map(|stream| streams.remove(&stream).map(|state| (stream, state)))
            .collect())
    }

    /// Resumes `saga_id` unless its last transition is younger than the takeover threshold
    /// (`None`: left to whoever is running it).
    async fn resume_unless_running(
        &self,
        saga_id: &str,
    ) -> Result<Option<SagaOutcome<G>>, SagaError> {
        let (log, last_recorded) = self.read(saga_id).await?;
        if !log.phase.is_terminal() && self.presumed_running(last_recorded) {
            tracing::info!(saga = G::SAGA_TYPE, %saga_id, "unfinished saga left to the executor running it");
            return Ok(None);
        }
        tracing::info!(saga = G::SAGA_TYPE, %saga_id, "recovering unfinished saga");
        self.resume_from(saga_id, log).await.map(Some)
    }

    /// A step may be quiet for as long as its timeout: a shorter threshold lets `recover`
    /// take over a saga whose step is still running.
    fn warn_if_takeover_too_soon(&self) {
        let longest = G::STEPS
            .iter()
            .filter_map(|step| step.timeout)
            .chain(self.step_timeout)
            .max();
        if let Some(longest) = longest
            && !self.takeover_after.is_zero()
            && longest >= self.takeover_after
        {
            tracing::warn!(
                saga = G::SAGA_TYPE,
                ?longest,
                takeover_after = ?self.takeover_after,
                "a step timeout is not shorter than the takeover threshold: recover may take over a saga still running"
            );
        }
    }

    fn presumed_running(&self, last_recorded: Option<OffsetDateTime>) -> bool {
        // A time in the future (clock skew) is young too, unless every saga is to be taken.
        !self.takeover_after.is_zero()
            && last_recorded.is_some_and(|at| OffsetDateTime::now_utc() - at < self.takeover_after)
    }

    /// The recorded history of `saga_id`, folded and as events.
    pub async fn history(&self, saga_id: &str) -> Result<(SagaLog, Vec<SagaEvent>), SagaError> {
        let envelopes = self.store.read_stream(&Self::stream_id(saga_id), 1).await?;
        let mut events = Vec::with_capacity(envelopes.len());
        let log = self.fold(saga_id, &envelopes, |event| events.push(event))?;
        Ok((log, events))
    }

    /// The folded history of `saga_id` and when its last event was recorded.
    async fn read(&self, saga_id: &str) -> Result<(SagaLog, Option<OffsetDateTime>), SagaError> {
        let envelopes = self.store.read_stream(&Self::stream_id(saga_id), 1).await?;
        let log = self.fold(saga_id, &envelopes, drop)?;
        Ok((log, envelopes.last().map(|e| e.recorded_at)))
    }

    /// Folds a saga's stored events into its log, handing each event on to `each`.
    fn fold(
        &self,
        saga_id: &str,
        envelopes: &[EventEnvelope],
        mut each: impl FnMut(SagaEvent),
    ) -> Result<SagaLog, SagaError> {
        let mut log = SagaLog::empty();
        for envelope in envelopes {
            let event = SagaEvent::from_envelope(envelope)?;
            self.check_step(saga_id, &event)?;
            log.record(&event);
            each(event);
        }
        Ok(log)
    }

    /// The saga id of one of this type's streams.
    fn saga_id_of(stream: &str) -> &str {
        stream
            .strip_prefix(G::SAGA_TYPE)
            .and_then(|rest| rest.strip_prefix('-'))
            .unwrap_or(stream)
    }

    /// Runs the saga from `log` until it ends. If another executor records a transition
    /// first, reports the saga's real outcome once that one has ended it.
    async fn drive(
        &self,
        saga_id: &str,
        log: SagaLog,
        data: G,
    ) -> Result<SagaOutcome<G>, SagaError> {
        match self.drive_to_end(saga_id, log, data).await {
            Err(SagaError::Contended { .. }) => self.settled_elsewhere(saga_id).await,
            other => other,
        }
    }

    /// After losing the stream to another executor: the saga's outcome if that one ended it,
    /// else `Contended` with where it stands.
    async fn settled_elsewhere(&self, saga_id: &str) -> Result<SagaOutcome<G>, SagaError> {
        let (log, _) = self.read(saga_id).await?;
        if !log.phase.is_terminal() {
            return Err(SagaError::Contended {
                saga_id: saga_id.to_owned(),
                phase: log.phase,
            });
        }
        let data = self.decode(saga_id, &log.data)?;
        self.outcome(saga_id, &log, data)
    }

    /// Runs the saga from `log` until it ends, recording each transition first.
    async fn drive_to_end(
        &self,
        saga_id: &str,
        mut log: SagaLog,
        mut data: G,
    ) -> Result<SagaOutcome<G>, SagaError> {
        loop {
            let action = log.next_action(G::STEPS, &self.forward_retry, &self.compensation_retry);
            match action {
                NextAction::Done => return self.outcome(saga_id, &log, data),
                NextAction::Record(event) => {
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
                    let step = step.to_owned();
                    let event = match result {
                        RunResult::Done => SagaEvent::StepCompleted {
                            step,
                            index,
                            data: changed,
                        },
                        RunResult::Refused(error) => SagaEvent::StepFailed {
                            step,
                            index,
                            attempt,
                            error: error.to_string(),
                            data: changed,
                        },
                        RunResult::TimedOut(limit) => SagaEvent::StepTimedOut {
                            step,
                            index,
                            attempt,
                            timeout_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
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
                    let step = step.to_owned();
                    let error = match result {
                        RunResult::Done => None,
                        RunResult::Refused(error) => Some(error.to_string()),
                        RunResult::TimedOut(limit) => Some(format!("timed out after {limit:?}")),
                    };
                    let event = match error {
                        None => SagaEvent::StepCompensated {
                            step,
                            index,
                            data: changed,
                        },
                        Some(error) => SagaEvent::CompensationFailed {
                            step,
                            index,
                            attempt,
                            error,
                            data: changed,
                        },
                    };
                    self.append_next(saga_id, &mut log, event).await?;
                }
            }
        }
    }

    /// Runs a step or compensation under its timeout; returns how it ended and the data if
    /// the run changed it.
    async fn run(
        &self,
        saga_id: &str,
        data: &mut G,
        index: usize,
        action: StepAction,
        key: StepKey,
    ) -> Result<(RunResult, Option<Value>), SagaError> {
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
            None => Some(run.await),
            Some(limit) => tokio::time::timeout(limit, run).await.ok(),
        };
        let result = match (result, timeout) {
            (Some(Ok(())), _) => RunResult::Done,
            (Some(Err(error)), _) => RunResult::Refused(error),
            (None, limit) => RunResult::TimedOut(limit.unwrap_or_default()),
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
                    phase: log.phase.clone(),
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
                failed_compensations: log.failed_compensations(),
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
            | SagaEvent::StepTimedOut { step, index, .. }
            | SagaEvent::StepCompensated { step, index, .. }
            | SagaEvent::CompensationFailed { step, index, .. }
            | SagaEvent::CompensationGaveUp { step, index, .. } => (step, *index),
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
