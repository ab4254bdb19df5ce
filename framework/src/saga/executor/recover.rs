//! Recovery: finding the sagas of one type a crashed process left unfinished, by a read of
//! the global log filtered to the saga's type, and resuming each one unless another executor
//! is presumably still running it.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::SagaExecutor;
use crate::saga::SagaSteps;
use crate::saga::error::{RecoveryError, SagaError};
use crate::saga::events::SagaEvent;
use crate::saga::outcome::{Recovery, SagaOutcome};
use crate::store::{EventFilter, EventStore, StoreError, StoredEvent};

/// How many saga events one read of the global log fetches while scanning.
const SCAN_PAGE: usize = 1_000;

/// What the global log says of one saga stream.
struct Scanned {
    state: StreamState,
    /// The version of its last event seen.
    version: u64,
    /// When its last readable event was recorded.
    last_recorded: Option<OffsetDateTime>,
}

/// Whether a saga stream's latest event ends it.
enum StreamState {
    Unfinished,
    Ended,
    /// One of its events cannot be read: it is reported, not resumed.
    Unreadable(StoreError),
}

impl<G: SagaSteps, S: EventStore> SagaExecutor<G, S> {
    /// Finds every saga of this type whose stream has no terminal event and resumes it,
    /// unless another executor is presumably running it (see
    /// [`with_takeover_after`](Self::with_takeover_after)). A failure to read or resume one
    /// does not stop the others: the [`Recovery`] lists what was resumed, what was left
    /// running and what could not be recovered, and why.
    ///
    /// It reads the global log filtered to this saga type (the stores use their index on the
    /// aggregate type), not the events of anything else. A saga event the store cannot read
    /// marks its saga as not recovered and the scan goes on past it; `recover` fails as a
    /// whole only when the log cannot be read at all.
    pub async fn recover(&self) -> Result<Recovery<G>, SagaError> {
        self.warn_if_takeover_too_soon();
        let mut recovery = Recovery::default();
        for (stream, scanned) in self.scan().await? {
            let saga_id = Self::saga_id_of(&stream).to_owned();
            let result = match scanned.state {
                StreamState::Ended => continue,
                StreamState::Unreadable(error) => Err(SagaError::Store(error)),
                StreamState::Unfinished => {
                    self.resume_unless_running(&saga_id, scanned.version, scanned.last_recorded)
                        .await
                }
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
    /// what its events say.
    async fn scan(&self) -> Result<Vec<(String, Scanned)>, SagaError> {
        let filter = EventFilter::all().aggregate_types([G::SAGA_TYPE]);
        let mut scan = Scan::default();
        let mut after = 0;
        loop {
            let mut last = None;
            let read = self
                .store
                .visit_all(after, SCAN_PAGE, &filter, &mut |event| {
                    last = Some(event.position);
                    scan.event(&event);
                    Ok(())
                })
                .await;
            match read {
                Ok(()) => {}
                // The store could not read a saga event: that saga is reported, and the scan
                // goes on after it (a position at or before `after` would loop: not past it).
                Err(StoreError::Corrupt {
                    stream,
                    version,
                    position: Some(position),
                    reason,
                }) if position > after => {
                    let error = StoreError::Corrupt {
                        stream: stream.clone(),
                        version,
                        position: Some(position),
                        reason,
                    };
                    scan.unreadable(&stream, version, error);
                    after = position;
                    continue;
                }
                Err(error) => return Err(error.into()),
            }
            let Some(last) = last else { break };
            after = last;
        }
        Ok(scan.into_streams())
    }

    /// Resumes `saga_id` unless its last transition is younger than the takeover threshold
    /// (`None`: left to whoever is running it).
    async fn resume_unless_running(
        &self,
        saga_id: &str,
        scanned_version: u64,
        last_recorded: Option<OffsetDateTime>,
    ) -> Result<Option<SagaOutcome<G>>, SagaError> {
        let progress = self.read(saga_id).await?;
        // The scan saw the stream up to `scanned_version`: one that grew since moved just now.
        let last_recorded = if progress.version == scanned_version {
            last_recorded
        } else {
            Some(OffsetDateTime::now_utc())
        };
        if !progress.phase.is_terminal() && self.presumed_running(last_recorded) {
            tracing::info!(saga = G::SAGA_TYPE, %saga_id, "unfinished saga left to the executor running it");
            return Ok(None);
        }
        tracing::info!(saga = G::SAGA_TYPE, %saga_id, "recovering unfinished saga");
        self.resume_from(saga_id, progress).await.map(Some)
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
}

/// The streams found so far by [`SagaExecutor::scan`].
#[derive(Default)]
struct Scan {
    order: Vec<String>,
    streams: HashMap<String, Scanned>,
}

impl Scan {
    fn stream(&mut self, stream: &str) -> &mut Scanned {
        if !self.streams.contains_key(stream) {
            self.order.push(stream.to_owned());
        }
        self.streams.entry(stream.to_owned()).or_insert(Scanned {
            state: StreamState::Unfinished,
            version: 0,
            last_recorded: None,
        })
    }

    /// The stream's next event: whether it ends the saga, unless the stream is unreadable.
    fn event(&mut self, event: &StoredEvent<'_>) {
        let scanned = self.stream(event.stream_id);
        scanned.version = event.version;
        scanned.last_recorded = Some(event.recorded_at);
        if matches!(scanned.state, StreamState::Unreadable(_)) {
            return;
        }
        scanned.state = match event.decode::<SagaEvent>() {
            Err(error) => StreamState::Unreadable(event.corrupt(error.into())),
            Ok(event) if event.is_terminal() => StreamState::Ended,
            Ok(_) => StreamState::Unfinished,
        };
    }

    /// An event of the stream the store could not read.
    fn unreadable(&mut self, stream: &str, version: u64, error: StoreError) {
        let scanned = self.stream(stream);
        scanned.version = version;
        if !matches!(scanned.state, StreamState::Unreadable(_)) {
            scanned.state = StreamState::Unreadable(error);
        }
    }

    fn into_streams(mut self) -> Vec<(String, Scanned)> {
        self.order
            .into_iter()
            .filter_map(|stream| self.streams.remove(&stream).map(|state| (stream, state)))
            .collect()
    }
}
