//! Reading a saga's stream back: through the store's replay path (as the repository rebuilds
//! an aggregate), each event checked to be of the saga's type and the next version, decoded as
//! a [`SagaEvent`], checked against the declared steps, and folded into a [`SagaProgress`].

use super::SagaExecutor;
use crate::saga::SagaSteps;
use crate::saga::error::SagaError;
use crate::saga::events::SagaEvent;
use crate::saga::progress::SagaProgress;
use crate::store::{CorruptionReason, EventStore, ReplayEvent, StoreError};

impl<G: SagaSteps, S: EventStore> SagaExecutor<G, S> {
    /// The recorded history of `saga_id`, folded and as events.
    pub async fn history(
        &self,
        saga_id: &str,
    ) -> Result<(SagaProgress, Vec<SagaEvent>), SagaError> {
        let events = self.replay(saga_id).await?;
        let progress = self.fold(saga_id, &events)?;
        Ok((progress, events))
    }

    /// The folded history of `saga_id`.
    pub(super) async fn read(&self, saga_id: &str) -> Result<SagaProgress, SagaError> {
        let events = self.replay(saga_id).await?;
        self.fold(saga_id, &events)
    }

    /// The stored events of `saga_id`, decoded, in order.
    async fn replay(&self, saga_id: &str) -> Result<Vec<SagaEvent>, SagaError> {
        let stream = Self::stream_id(saga_id);
        let mut events = Vec::new();
        self.store
            .replay_stream(&stream, 1, &mut |event| {
                let next_version = events.len() as u64 + 1;
                events.push(decode_stored(&stream, G::SAGA_TYPE, next_version, event)?);
                Ok(())
            })
            .await?;
        Ok(events)
    }

    /// Folds a saga's events into its progress, refusing a history that names other steps.
    fn fold(&self, saga_id: &str, events: &[SagaEvent]) -> Result<SagaProgress, SagaError> {
        let mut progress = SagaProgress::empty();
        for event in events {
            self.check_step(saga_id, event)?;
            progress.record(event);
        }
        Ok(progress)
    }

    /// The saga id of one of this type's streams.
    pub(super) fn saga_id_of(stream: &str) -> &str {
        stream
            .strip_prefix(G::SAGA_TYPE)
            .and_then(|rest| rest.strip_prefix('-'))
            .unwrap_or(stream)
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
}

/// Decodes the event of `stream` expected at `version` of a saga of type `saga_type`; an event
/// of another type, out of order or unreadable is a corrupt stream.
fn decode_stored(
    stream: &str,
    saga_type: &str,
    version: u64,
    event: ReplayEvent<'_>,
) -> Result<SagaEvent, StoreError> {
    let corrupt = |reason| StoreError::Corrupt {
        stream: stream.to_owned(),
        version: event.version,
        position: None,
        reason,
    };
    if event.aggregate_type != saga_type {
        return Err(corrupt(CorruptionReason::AggregateType {
            expected: saga_type.to_owned(),
            found: event.aggregate_type.to_owned(),
        }));
    }
    if event.version != version {
        return Err(corrupt(CorruptionReason::VersionGap {
            expected: version,
            found: event.version,
        }));
    }
    event
        .decode::<SagaEvent>()
        .map_err(|error| corrupt(error.into()))
}
