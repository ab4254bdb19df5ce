//! Stored data kept exactly, through a typed aggregate and a repository, on every store: floats
//! bit for bit (replayed, read, snapshotted), what JSON cannot hold refused before anything is
//! stored, an event of another aggregate type never applied, and a save retried after a lost
//! reply that finds its events stored instead of reporting a conflict.

use aggregato::NewEvent;
use aggregato::prelude::*;
use aggregato::store::{CorruptionReason, SnapshotStore};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A gauge records readings; its state keeps every reading's bits, so a changed float shows.
#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, error = GaugeError, events(Read), commands(Record))]
pub struct Gauge {
    bits: Vec<u64>,
    peaks: Vec<u64>,
}

/// One reading, with an optional peak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct Read {
    value: f64,
    peak: Option<f64>,
}

/// Records readings, one event each.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Gauge)]
pub struct Record {
    readings: Vec<(f64, Option<f64>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum GaugeError {}

impl Handle<Record> for Gauge {
    async fn handle(&self, command: Record, _: &()) -> Result<Vec<GaugeEvent>, GaugeError> {
        Ok(command
            .readings
            .into_iter()
            .map(|(value, peak)| Read { value, peak }.into())
            .collect())
    }
}

impl Apply<Read> for Gauge {
    fn apply(&mut self, event: &Read) {
        self.bits.push(event.value.to_bits());
        self.peaks.extend(event.peak.map(f64::to_bits));
    }
}

/// The floats a careful user tries first, and a few hundred random bit patterns.
fn awkward_floats() -> Vec<f64> {
    let mut floats = vec![
        -0.0,
        0.0,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        0.1,
        0.1 + 0.2,
        1.0 / 3.0,
        2.0_f64.powi(53) + 2.0,
        1e300,
        -1e-300,
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    while floats.len() < 500 {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let value = f64::from_bits(state.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        if value.is_finite() {
            floats.push(value);
        }
    }
    floats
}

/// Every float recorded comes back bit for bit: replayed into the state, read back as JSON,
/// and from a snapshot.
pub async fn floats_come_back_bit_for_bit<S>(store: S)
where
    S: EventStore + SnapshotStore + Clone,
{
    let floats = awkward_floats();
    let readings: Vec<(f64, Option<f64>)> = floats.iter().map(|&v| (v, Some(-v))).collect();
    let expected: Vec<u64> = floats.iter().map(|v| v.to_bits()).collect();
    let negated: Vec<u64> = floats.iter().map(|v| (-v).to_bits()).collect();

    let repository: Repository<Gauge, S> = Repository::new(store.clone());
    let id = "exact".to_owned();
    repository
        .execute(&id, Record { readings })
        .await
        .expect("finite floats are stored");
    let replayed = repository.load(&id).await.expect("load").into_state();
    assert_eq!(
        first_changes(&expected, &replayed.bits),
        [],
        "replayed values change"
    );
    assert_eq!(
        first_changes(&negated, &replayed.peaks),
        [],
        "replayed peaks change"
    );

    let stream = Gauge::stream_id(&id);
    let read: Vec<u64> = store
        .read_stream(&stream, 1)
        .await
        .expect("read_stream")
        .into_iter()
        .map(|envelope| envelope.decode::<GaugeEvent>().expect("decodes").payload)
        .map(|GaugeEvent::Read(read)| read.value.to_bits())
        .collect();
    assert_eq!(
        first_changes(&expected, &read),
        [],
        "values read back change"
    );

    // A snapshot of the whole state, then a load that starts from it.
    let snapshotting: Repository<Gauge, S> = Repository::new(store).with_snapshots_every(1);
    snapshotting
        .execute(
            &id,
            Record {
                readings: vec![(0.5, None)],
            },
        )
        .await
        .expect("one more reading, and a snapshot");
    let from_snapshot = snapshotting.load(&id).await.expect("load").into_state();
    assert_eq!(
        from_snapshot.bits.len(),
        floats.len() + 1,
        "state as of the snapshot"
    );
    assert_eq!(
        first_changes(&expected, &from_snapshot.bits[..floats.len()]),
        [],
        "values restored from a snapshot change"
    );
}

/// The first few (stored, read) pairs that differ, as floats.
fn first_changes(expected: &[u64], got: &[u64]) -> Vec<(f64, f64)> {
    assert_eq!(expected.len(), got.len(), "as many values read as stored");
    expected
        .iter()
        .zip(got)
        .filter(|(want, have)| want != have)
        .map(|(want, have)| (f64::from_bits(*want), f64::from_bits(*have)))
        .take(5)
        .collect()
}

/// `NaN` and the infinities, anywhere in an event, are refused at encoding with
/// `RepositoryError::Encode`, and nothing of the command is stored.
pub async fn non_finite_floats_are_refused<S: EventStore>(store: S) {
    let repository: Repository<Gauge, S> = Repository::new(store);
    let id = "refused".to_owned();
    for readings in [
        vec![(1.0, None), (f64::NAN, None)],
        vec![(f64::INFINITY, None)],
        vec![(1.0, Some(f64::NAN))],
        vec![(2.0, Some(f64::NEG_INFINITY))],
    ] {
        match repository.execute(&id, Record { readings }).await {
            Err(RepositoryError::Encode { event_type, source }) => {
                assert_eq!(event_type, "Read");
                assert!(source.to_string().contains("JSON has no NaN"), "{source}");
            }
            other => panic!("a non-finite float must be refused, got {other:?}"),
        }
    }
    let stream = Gauge::stream_id(&id);
    assert_eq!(
        repository
            .store()
            .stream_version(&stream)
            .await
            .expect("version"),
        0
    );
}

/// An event stored with another aggregate type is never applied: appended to an existing
/// stream it is refused; as the first event of a stream, loading the stream as a `Gauge` is a
/// typed corruption naming both types.
pub async fn an_event_of_another_aggregate_type_is_never_applied<S: EventStore>(store: S) {
    let repository: Repository<Gauge, S> = Repository::new(store);
    let intruder = |value: f64| NewEvent {
        event_id: uuid::Uuid::now_v7(),
        aggregate_type: "Intruder".to_owned(),
        event_type: "Read".to_owned(),
        event_version: 1,
        metadata: Metadata::default(),
        payload: serde_json::json!({ "value": value, "peak": null }).into(),
    };
    let owned = "owned".to_owned();
    repository
        .execute(
            &owned,
            Record {
                readings: vec![(1.0, None)],
            },
        )
        .await
        .expect("a gauge reading");
    let stream = Gauge::stream_id(&owned);
    let refused = repository
        .store()
        .append(&stream, ExpectedVersion::Any, vec![intruder(666.0)])
        .await;
    assert!(
        matches!(refused, Err(StoreError::Refused { .. })),
        "an intruder in a gauge stream is refused: {refused:?}"
    );
    let state = repository.load(&owned).await.expect("load").into_state();
    assert_eq!(
        state.bits,
        [1.0_f64.to_bits()],
        "nothing of the intruder applied"
    );

    let victim = "victim".to_owned();
    let stream = Gauge::stream_id(&victim);
    repository
        .store()
        .append(&stream, ExpectedVersion::NoStream, vec![intruder(666.0)])
        .await
        .expect("a new stream takes the type of its first event");
    match repository.load(&victim).await {
        Err(RepositoryError::Store(StoreError::Corrupt {
            stream: named,
            version: 1,
            reason: CorruptionReason::AggregateType { expected, found },
            ..
        })) => {
            assert_eq!(named, stream);
            assert_eq!((expected.as_str(), found.as_str()), ("Gauge", "Intruder"));
        }
        other => panic!("loading another type's stream must be a corruption, got {other:?}"),
    }
}

/// A store whose appends commit, but whose replies are lost on the way back.
struct LosesReplies<S>(S);

#[async_trait]
impl<S: EventStore> EventStore for LosesReplies<S> {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope<()>>, StoreError> {
        self.0.append(stream, expected, events).await?;
        Err(StoreError::Backend("connection reset after commit".into()))
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.0.read_stream(stream, from_version).await
    }

    async fn read_all_filtered(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.0
            .read_all_filtered(after_position, limit, filter)
            .await
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        self.0.stream_version(stream).await
    }
}

/// `Repository::save` of an instance whose first save committed but lost its reply returns the
/// stored events (same ids) instead of a conflict, and nothing is stored twice.
pub async fn a_save_retried_after_a_lost_reply_returns_the_stored_events<S>(store: S)
where
    S: EventStore + Clone,
{
    let flaky: Repository<Gauge, _> = Repository::new(LosesReplies(store.clone()));
    let id = "lost-reply".to_owned();
    let mut root = flaky.load(&id).await.expect("load");
    root.handle(
        Record {
            readings: vec![(1.0, None), (2.0, None)],
        }
        .into(),
        &(),
    )
    .await
    .expect("decide");
    let ids = root.uncommitted_ids().to_vec();
    assert!(
        flaky.save(&mut root, Metadata::default()).await.is_err(),
        "the reply is lost"
    );

    let repository: Repository<Gauge, S> = Repository::new(store.clone());
    let saved = repository
        .save(&mut root, Metadata::default())
        .await
        .expect("the retried save finds its events stored");
    assert_eq!(saved.iter().map(|e| e.event_id).collect::<Vec<_>>(), ids);
    assert_eq!(saved.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(root.version(), 2);
    let stream = Gauge::stream_id(&id);
    let stored = store.read_stream(&stream, 1).await.expect("read");
    assert_eq!(
        stored.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        ids,
        "stored once"
    );
}
