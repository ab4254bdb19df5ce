//! The saga executor on the in-memory store, with a hand-written `SagaSteps` impl (the same
//! shape `#[saga_steps]` generates): order of steps and compensations, retries, timeouts,
//! the recorded history, and recovery from a history cut after every event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aggregato::saga::{
    Saga, SagaError, SagaEvent, SagaExecutor, SagaOutcome, SagaSteps, StepError, StepInfo, StepKey,
    StepKind,
};
use aggregato::store::ReplayVisitor;
use aggregato::{
    EventEnvelope, EventFilter, EventStore, ExpectedVersion, InMemoryEventStore, NewEvent,
    RetryPolicy, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod support;

/// A trip: book a hotel and a flight (both undoable), log (nothing to undo), pay (the pivot),
/// then e-mail the traveller (after the pivot: retried, never compensated).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Trip {
    traveller: String,
    hotel: Option<String>,
    flight: Option<String>,
}

/// Records every call and every success with its key; fails the named calls as many times
/// as configured; can stall one (for ever, or its first few calls) or hold one until
/// released.
#[derive(Default)]
struct Agency {
    calls: Mutex<Vec<String>>,
    keys: Mutex<Vec<(String, String)>>,
    succeeded: Mutex<Vec<(String, String)>>,
    failures: Mutex<HashMap<&'static str, u32>>,
    stall: Mutex<Option<&'static str>>,
    stalls: Mutex<HashMap<&'static str, u32>>,
    slow: Mutex<Option<(&'static str, Duration)>>,
    hold: Mutex<Option<&'static str>>,
    release: tokio::sync::Notify,
}

impl Agency {
    fn failing(failures: &[(&'static str, u32)]) -> Self {
        Self {
            failures: Mutex::new(failures.iter().copied().collect()),
            ..Self::default()
        }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls").clone()
    }

    /// Every call, with the key it received.
    fn keys(&self) -> Vec<(String, String)> {
        self.keys.lock().expect("keys").clone()
    }

    /// The calls that succeeded, with the key each received.
    fn succeeded(&self) -> Vec<(String, String)> {
        self.succeeded.lock().expect("succeeded").clone()
    }

    /// Stalls the next `times` calls of `name` past any timeout.
    fn stall_times(&self, name: &'static str, times: u32) {
        self.stalls.lock().expect("stalls").insert(name, times);
    }

    /// Makes `name` succeed from now on.
    fn fix(&self, name: &'static str) {
        self.failures.lock().expect("failures").remove(name);
    }

    /// Waits (at most ten seconds) until `name` has been called.
    async fn called(&self, name: &str) {
        let waited = tokio::time::timeout(Duration::from_secs(10), async {
            while !self.calls().iter().any(|call| call == name) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "{name} was never called");
    }

    fn stalls_now(&self, name: &'static str) -> bool {
        if *self.stall.lock().expect("stall") == Some(name) {
            return true;
        }
        match self.stalls.lock().expect("stalls").get_mut(name) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }

    async fn call(&self, name: &'static str, key: &StepKey) -> Result<(), String> {
        self.calls.lock().expect("calls").push(name.to_owned());
        let call = (name.to_owned(), key.to_string());
        self.keys.lock().expect("keys").push(call);
        // The participant has the request and does the work; its answer is what stalls.
        if self.stalls_now(name) {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        let hold = *self.hold.lock().expect("hold");
        if hold == Some(name) {
            self.release.notified().await;
        }
        let slow = *self.slow.lock().expect("slow");
        if let Some((slow_name, pause)) = slow
            && slow_name == name
        {
            tokio::time::sleep(pause).await;
        }
        let mut failures = self.failures.lock().expect("failures");
        match failures.get_mut(name) {
            Some(left) if *left > 0 => {
                *left -= 1;
                Err(format!("{name} refused ({key})"))
            }
            _ => {
                let success = (name.to_owned(), key.to_string());
                self.succeeded.lock().expect("succeeded").push(success);
                Ok(())
            }
        }
    }
}

impl Saga for Trip {
    const SAGA_TYPE: &'static str = "Trip";
    type Services = Arc<Agency>;
}

const STEPS: &[StepInfo] = &[
    StepInfo {
        name: "book_hotel",
        kind: StepKind::Compensable {
            compensation: "cancel_hotel",
        },
        timeout: None,
    },
    StepInfo {
        name: "book_flight",
        kind: StepKind::Compensable {
            compensation: "cancel_flight",
        },
        timeout: None,
    },
    StepInfo {
        name: "log",
        kind: StepKind::NoCompensation,
        timeout: None,
    },
    StepInfo {
        name: "pay",
        kind: StepKind::Pivot,
        timeout: Some(Duration::from_millis(50)),
    },
    StepInfo {
        name: "email",
        kind: StepKind::NoCompensation,
        timeout: None,
    },
];

impl SagaSteps for Trip {
    const STEPS: &'static [StepInfo] = STEPS;

    async fn run_step(
        &mut self,
        step: usize,
        agency: &Arc<Agency>,
        key: StepKey,
    ) -> Result<(), StepError> {
        {
            let name = STEPS
                .get(step)
                .map(|s| s.name)
                .ok_or_else(|| aggregato::saga::unknown_step("Trip", step))?;
            agency.call(name, &key).await.map_err(StepError::new)?;
            match step {
                0 => self.hotel = Some(format!("hotel for {}", self.traveller)),
                1 => self.flight = Some(format!("flight for {}", self.traveller)),
                _ => {}
            }
            Ok(())
        }
    }

    async fn compensate_step(
        &mut self,
        step: usize,
        agency: &Arc<Agency>,
        key: StepKey,
    ) -> Result<(), StepError> {
        {
            let name = match step {
                0 => "cancel_hotel",
                1 => "cancel_flight",
                _ => return Ok(()),
            };
            agency.call(name, &key).await.map_err(StepError::new)?;
            match step {
                0 => self.hotel = None,
                _ => self.flight = None,
            }
            Ok(())
        }
    }
}

type Executor = SagaExecutor<Trip, Arc<InMemoryEventStore>>;

fn executor(store: &Arc<InMemoryEventStore>, agency: &Arc<Agency>) -> Executor {
    executor_on(Arc::clone(store), agency)
}

fn executor_on<S: EventStore>(store: S, agency: &Arc<Agency>) -> SagaExecutor<Trip, S> {
    SagaExecutor::new(store, Arc::clone(agency))
        .with_forward_retry(RetryPolicy::immediate(3))
        .with_compensation_retry(RetryPolicy::immediate(3))
}

fn trip() -> Trip {
    Trip {
        traveller: "ada".to_owned(),
        ..Trip::default()
    }
}

async fn event_types(executor: &Executor, id: &str) -> Vec<String> {
    let (_, events) = executor.history(id).await.expect("history");
    events
        .iter()
        .map(|event| match event {
            SagaEvent::StepStarted { step, .. } => format!("StepStarted:{step}"),
            SagaEvent::StepCompleted { step, .. } => format!("StepCompleted:{step}"),
            SagaEvent::StepFailed { step, .. } => format!("StepFailed:{step}"),
            SagaEvent::StepTimedOut { step, .. } => format!("StepTimedOut:{step}"),
            SagaEvent::CompensationGaveUp { step, .. } => format!("CompensationGaveUp:{step}"),
            SagaEvent::StepCompensated { step, .. } => format!("StepCompensated:{step}"),
            SagaEvent::CompensationFailed { step, .. } => format!("CompensationFailed:{step}"),
            other => other.event_type().to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn the_happy_path_runs_every_step_once_and_records_each_transition() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::default());
    let executor = executor(&store, &agency);
    let outcome = executor.start("t1", trip()).await.expect("run");
    let expected_data = Trip {
        traveller: "ada".to_owned(),
        hotel: Some("hotel for ada".to_owned()),
        flight: Some("flight for ada".to_owned()),
    };
    assert_eq!(
        outcome,
        SagaOutcome::Completed {
            data: expected_data.clone()
        }
    );
    assert_eq!(
        agency.calls(),
        ["book_hotel", "book_flight", "log", "pay", "email"]
    );
    let mut expected = vec!["SagaStarted".to_owned()];
    for step in ["book_hotel", "book_flight", "log", "pay", "email"] {
        expected.push(format!("StepStarted:{step}"));
        expected.push(format!("StepCompleted:{step}"));
    }
    expected.push("SagaCompleted".to_owned());
    assert_eq!(event_types(&executor, "t1").await, expected);
    // The data is recorded where a step changed it, so the history rebuilds it.
    let (log, events) = executor.history("t1").await.expect("history");
    assert_eq!(
        log.data,
        serde_json::to_value(&expected_data).expect("json")
    );
    let with_data = events
        .iter()
        .filter(|e| matches!(e, SagaEvent::StepCompleted { data: Some(_), .. }))
        .count();
    assert_eq!(with_data, 2, "only the booking steps changed the data");
    let stored = store.read_stream("Trip-t1", 1).await.expect("stream");
    assert!(stored.iter().all(|e| e.aggregate_type == "Trip"));
}

#[tokio::test]
async fn a_failure_before_the_pivot_compensates_what_completed_in_reverse_order() {
    // Failing at each step before (and at) the pivot.
    let cases: [(&str, &[&str]); 4] = [
        ("book_hotel", &["book_hotel"]),
        (
            "book_flight",
            &["book_hotel", "book_flight", "cancel_hotel"],
        ),
        (
            "log",
            &[
                "book_hotel",
                "book_flight",
                "log",
                "cancel_flight",
                "cancel_hotel",
            ],
        ),
        (
            "pay",
            &[
                "book_hotel",
                "book_flight",
                "log",
                "pay",
                "cancel_flight",
                "cancel_hotel",
            ],
        ),
    ];
    for (failing, expected_calls) in cases {
        let store = Arc::new(InMemoryEventStore::new());
        let agency = Arc::new(Agency::failing(&[(failing, 1)]));
        let executor = executor(&store, &agency);
        let outcome = executor.start("t", trip()).await.expect("run");
        match &outcome {
            SagaOutcome::Compensated {
                data,
                failed_step,
                error,
            } => {
                assert_eq!(failed_step, failing);
                assert!(error.contains("refused"), "{error}");
                assert_eq!((&data.hotel, &data.flight), (&None, &None));
            }
            other => panic!("failing {failing}: expected compensation, got {other:?}"),
        }
        assert_eq!(agency.calls(), expected_calls, "failing {failing}");
        let types = event_types(&executor, "t").await;
        assert_eq!(types.last().map(String::as_str), Some("SagaCompensated"));
        assert!(types.contains(&format!("StepFailed:{failing}")));
        assert!(types.contains(&"CompensationStarted".to_owned()));
    }
}

#[tokio::test]
async fn a_failure_after_the_pivot_is_retried_forward_not_compensated() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::failing(&[("email", 2)]));
    let executor = executor(&store, &agency);
    let outcome = executor.start("t", trip()).await.expect("run");
    assert!(
        matches!(outcome, SagaOutcome::Completed { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        agency.calls(),
        [
            "book_hotel",
            "book_flight",
            "log",
            "pay",
            "email",
            "email",
            "email"
        ]
    );
    let (_, events) = executor.history("t").await.expect("history");
    let attempts: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            SagaEvent::StepStarted { step, attempt, .. } if step == "email" => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
}

#[tokio::test]
async fn a_step_that_keeps_failing_after_the_pivot_ends_in_a_visible_failure() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::failing(&[("email", 10)]));
    let executor = executor(&store, &agency);
    let outcome = executor.start("t", trip()).await.expect("run");
    match outcome {
        SagaOutcome::Failed { reason, .. } => {
            assert!(
                reason.contains("email") && reason.contains("3 times"),
                "{reason}"
            )
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(!agency.calls().iter().any(|call| call.starts_with("cancel")));
    let types = event_types(&executor, "t").await;
    assert_eq!(types.last().map(String::as_str), Some("SagaFailed"));
}

#[tokio::test]
async fn a_failing_compensation_is_retried_until_it_succeeds() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::failing(&[("pay", 1), ("cancel_flight", 2)]));
    let executor = executor(&store, &agency);
    let outcome = executor.start("t", trip()).await.expect("run");
    assert!(
        matches!(outcome, SagaOutcome::Compensated { .. }),
        "{outcome:?}"
    );
    let calls = agency.calls();
    assert_eq!(
        calls[4..],
        [
            "cancel_flight",
            "cancel_flight",
            "cancel_flight",
            "cancel_hotel"
        ]
    );
    let types = event_types(&executor, "t").await;
    let failed = types
        .iter()
        .filter(|t| *t == "CompensationFailed:book_flight")
        .count();
    assert_eq!(failed, 2);
}

#[tokio::test]
async fn the_executor_default_timeout_applies_to_steps_without_one() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::default());
    *agency.stall.lock().expect("stall") = Some("book_flight");
    let executor = executor(&store, &agency).with_step_timeout(Duration::from_millis(20));
    let outcome = executor.start("t", trip()).await.expect("run");
    assert!(
        matches!(&outcome, SagaOutcome::Compensated { failed_step, .. } if failed_step == "book_flight"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn steps_receive_a_key_stable_per_saga_and_step() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::failing(&[("book_flight", 1)]));
    let executor = executor(&store, &agency);
    executor.start("order-7", trip()).await.expect("run");
    let (_, events) = executor.history("order-7").await.expect("history");
    let error = events.iter().find_map(|e| match e {
        SagaEvent::StepFailed { error, .. } => Some(error.clone()),
        _ => None,
    });
    assert_eq!(
        error.as_deref(),
        Some("book_flight refused (Trip/order-7/book_flight)")
    );
    let key = StepKey::new(
        "Trip",
        "order-7",
        "book_hotel",
        aggregato::saga::StepAction::Compensate,
    );
    assert_eq!(key.as_str(), "Trip/order-7/book_hotel/compensate");
}

#[tokio::test]
async fn starting_an_existing_saga_is_refused_and_resuming_an_ended_one_runs_nothing() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::default());
    let executor = executor(&store, &agency);
    executor.start("t", trip()).await.expect("run");
    let again = executor.start("t", trip()).await;
    assert!(
        matches!(again, Err(SagaError::AlreadyStarted { .. })),
        "{again:?}"
    );
    let calls = agency.calls().len();
    let resumed = executor.resume("t").await.expect("resume");
    assert!(matches!(resumed, SagaOutcome::Completed { .. }));
    assert_eq!(agency.calls().len(), calls);
    let missing = executor.resume("nope").await;
    assert!(
        matches!(missing, Err(SagaError::NotFound { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_history_naming_other_steps_is_refused() {
    let store = Arc::new(InMemoryEventStore::new());
    let started = SagaEvent::SagaStarted {
        saga_id: "t".to_owned(),
        data: serde_json::to_value(trip()).expect("json"),
        correlation_id: None,
    };
    let renamed = SagaEvent::StepStarted {
        step: "book_train".to_owned(),
        index: 1,
        attempt: 1,
    };
    append(&store, "t", &[started, renamed]).await;
    let agency = Arc::new(Agency::default());
    let resumed = executor(&store, &agency).resume("t").await;
    match resumed {
        Err(SagaError::StepsChanged {
            index,
            recorded,
            declared,
            ..
        }) => assert_eq!(
            (index, recorded.as_str(), declared.as_str()),
            (1, "book_train", "book_flight")
        ),
        other => panic!("expected StepsChanged, got {other:?}"),
    }
    assert!(agency.calls().is_empty());
}

/// Appends `events` to the saga's stream in the form the executor wrote before saga events
/// were stored like other events: serde's tagged form (`{"type": name, ..fields}`) at schema
/// version 1. Every history built with it proves that form still loads and recovers.
async fn append<S: EventStore + ?Sized>(store: &S, id: &str, events: &[SagaEvent]) {
    let new_events = events
        .iter()
        .map(|event| aggregato::NewEvent {
            event_id: uuid::Uuid::now_v7(),
            aggregate_type: "Trip".to_owned(),
            event_type: event.event_type().to_owned(),
            event_version: 1,
            metadata: aggregato::Metadata::default(),
            payload: serde_json::to_value(event).expect("json").into(),
        })
        .collect();
    store
        .append(&format!("Trip-{id}"), ExpectedVersion::Any, new_events)
        .await
        .expect("append");
}

/// Which calls a recovery must make after a history cut at `cut` events: the calls of an
/// uninterrupted run, minus those whose completion (or failure) the kept history records.
fn calls_after(events: &[SagaEvent], cut: usize, full_calls: &[String]) -> Vec<String> {
    // Each StepCompleted/StepFailed/StepCompensated/CompensationFailed records one finished
    // call; a StepStarted without its end means the call is made again.
    let finished = events[..cut]
        .iter()
        .filter(|e| {
            matches!(
                e,
                SagaEvent::StepCompleted { .. }
                    | SagaEvent::StepFailed { .. }
                    | SagaEvent::StepTimedOut { .. }
                    | SagaEvent::StepCompensated { .. }
                    | SagaEvent::CompensationFailed { .. }
            )
        })
        .count();
    full_calls[finished..].to_vec()
}

#[tokio::test]
async fn recovery_resumes_from_a_history_cut_after_every_kind_of_event() {
    // Four runs that together record every kind of event but `SagaRetried` (an operator's
    // act: see `a_retry_cut_short_by_a_crash_is_recovered`): (failures, stalls).
    type Counts = &'static [(&'static str, u32)];
    let scenarios: [(Counts, Counts); 4] = [
        // SagaStarted, StepStarted, StepCompleted, SagaCompleted
        (&[], &[]),
        // StepFailed, CompensationStarted, StepCompensated, CompensationFailed,
        // SagaCompensated
        (&[("pay", 1), ("cancel_flight", 1)], &[]),
        // CompensationGaveUp, SagaFailed
        (&[("pay", 1), ("cancel_flight", 9)], &[]),
        // StepTimedOut
        (&[], &[("book_flight", 1)]),
    ];
    let mut kinds_cut_after = std::collections::BTreeSet::new();
    for (failures, stalls) in scenarios {
        let reference_store = Arc::new(InMemoryEventStore::new());
        let reference_agency = Arc::new(Agency::failing(failures));
        for &(name, times) in stalls {
            reference_agency.stall_times(name, times);
        }
        let reference = executor(&reference_store, &reference_agency)
            .with_step_timeout(Duration::from_millis(20));
        let expected_outcome = reference.start("t", trip()).await.expect("reference run");
        let (_, events) = reference.history("t").await.expect("history");
        let full_calls = reference_agency.calls();
        for cut in 1..=events.len() {
            kinds_cut_after.insert(events[cut - 1].event_type());
            let store = Arc::new(InMemoryEventStore::new());
            append(&store, "t", &events[..cut]).await;
            // The failures still to come are the ones the kept history has not used up.
            let agency = Arc::new(Agency::failing(&remaining_failures(
                failures,
                &events[..cut],
            )));
            for (name, times) in remaining_stalls(stalls, &events[..cut]) {
                agency.stall_times(name, times);
            }
            let recovering = executor(&store, &agency)
                .with_step_timeout(Duration::from_millis(20))
                .with_takeover_after(Duration::ZERO);
            let recovered = recovering.recover().await.expect("recover");
            assert!(recovered.failed.is_empty(), "{:?}", recovered.failed);
            assert!(recovered.left_running.is_empty());
            let terminal_already = events[cut - 1].is_terminal();
            if terminal_already {
                assert!(recovered.resumed.is_empty(), "an ended saga is not resumed");
                continue;
            }
            assert_eq!(recovered.resumed.len(), 1, "cut after {cut} events");
            let (id, outcome) = &recovered.resumed[0];
            assert_eq!(id, "t");
            assert_eq!(outcome, &expected_outcome, "cut after {cut} of {events:?}");
            assert_eq!(
                agency.calls(),
                calls_after(&events, cut, &full_calls),
                "cut after {cut}: only what the history does not record as done runs"
            );
            let (_, resumed_events) = recovering.history("t").await.expect("history");
            assert!(resumed_events.last().is_some_and(SagaEvent::is_terminal));
        }
    }
    let every_kind = [
        "SagaStarted",
        "StepStarted",
        "StepCompleted",
        "StepFailed",
        "StepTimedOut",
        "CompensationStarted",
        "StepCompensated",
        "CompensationFailed",
        "CompensationGaveUp",
        "SagaCompleted",
        "SagaCompensated",
        "SagaFailed",
    ];
    for kind in every_kind {
        assert!(kinds_cut_after.contains(kind), "no cut after {kind}");
    }
}

/// The configured stalls minus the timeouts the history already recorded.
fn remaining_stalls(
    stalls: &[(&'static str, u32)],
    history: &[SagaEvent],
) -> Vec<(&'static str, u32)> {
    stalls
        .iter()
        .map(|&(name, count)| {
            let used = history
                .iter()
                .filter(|e| matches!(e, SagaEvent::StepTimedOut { step, .. } if step == name))
                .count() as u32;
            (name, count.saturating_sub(used))
        })
        .collect()
}

/// The configured failures minus those the history already recorded.
fn remaining_failures(
    failures: &[(&'static str, u32)],
    history: &[SagaEvent],
) -> Vec<(&'static str, u32)> {
    failures
        .iter()
        .map(|&(name, count)| {
            let used = history
                .iter()
                .filter(|e| match e {
                    SagaEvent::StepFailed { step, .. } => step == name,
                    SagaEvent::CompensationFailed { step, .. } => {
                        compensation_of(step) == Some(name)
                    }
                    _ => false,
                })
                .count() as u32;
            (name, count.saturating_sub(used))
        })
        .collect()
}

fn compensation_of(step: &str) -> Option<&'static str> {
    STEPS
        .iter()
        .find(|s| s.name == step)
        .and_then(|s| match s.kind {
            StepKind::Compensable { compensation } => Some(compensation),
            _ => None,
        })
}

#[tokio::test]
async fn recover_leaves_ended_sagas_alone_and_resumes_each_unfinished_one() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::default());
    let executor = executor(&store, &agency).with_takeover_after(Duration::ZERO);
    executor.start("done", trip()).await.expect("run");
    append(&store, "a", &[started("a")]).await;
    append(&store, "b", &[started("b")]).await;
    let before = agency.calls().len();
    let recovered = executor.recover().await.expect("recover");
    assert!(recovered.is_clean() && recovered.left_running.is_empty());
    let ids: Vec<&str> = recovered
        .resumed
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(
        recovered
            .resumed
            .iter()
            .all(|(_, o)| matches!(o, SagaOutcome::Completed { .. }))
    );
    assert_eq!(agency.calls().len() - before, 10);
    assert!(executor.recover().await.expect("again").resumed.is_empty());
}

fn started(id: &str) -> SagaEvent {
    SagaEvent::SagaStarted {
        saga_id: id.to_owned(),
        data: serde_json::to_value(trip()).expect("json"),
        correlation_id: None,
    }
}

/// Appends a raw event of the saga's type, as a bug or a hand edit might have stored it.
async fn append_raw(store: &InMemoryEventStore, id: &str, event_type: &str, payload: Value) {
    let event = aggregato::NewEvent {
        event_id: uuid::Uuid::now_v7(),
        aggregate_type: "Trip".to_owned(),
        event_type: event_type.to_owned(),
        event_version: 1,
        metadata: aggregato::Metadata::default(),
        payload: payload.into(),
    };
    store
        .append(&format!("Trip-{id}"), ExpectedVersion::Any, vec![event])
        .await
        .expect("append");
}

#[tokio::test]
async fn recover_reports_corrupt_sagas_and_still_recovers_the_others() {
    let store = Arc::new(InMemoryEventStore::new());
    append(&store, "a", &[started("a")]).await;
    // A start that is not a saga event, then a good start followed by a garbled step.
    let bad_start = serde_json::json!({"type": "SagaStarted", "saga_id": 7});
    append_raw(&store, "broken", "SagaStarted", bad_start).await;
    append(&store, "garbled", &[started("garbled")]).await;
    let bad_step = serde_json::json!({"type": "StepStarted", "step": "book_hotel"});
    append_raw(&store, "garbled", "StepStarted", bad_step).await;
    append(&store, "b", &[started("b")]).await;
    let agency = Arc::new(Agency::default());
    let executor = executor(&store, &agency).with_takeover_after(Duration::ZERO);
    let recovered = executor.recover().await.expect("recover");
    let resumed: Vec<&str> = recovered
        .resumed
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(resumed, ["a", "b"]);
    assert!(
        recovered
            .resumed
            .iter()
            .all(|(_, o)| matches!(o, SagaOutcome::Completed { .. }))
    );
    assert!(!recovered.is_clean());
    let failed: Vec<(&str, &str, u64)> = recovered
        .failed
        .iter()
        .map(|failure| {
            let version = match &failure.source {
                SagaError::Store(StoreError::Corrupt {
                    stream, version, ..
                }) => {
                    assert_eq!(stream, &failure.stream);
                    *version
                }
                other => panic!("expected a corrupt stream, got {other:?}"),
            };
            (failure.saga_id.as_str(), failure.stream.as_str(), version)
        })
        .collect();
    assert_eq!(
        failed,
        [("broken", "Trip-broken", 1), ("garbled", "Trip-garbled", 2)]
    );
    let message = recovered.failed[1].to_string();
    assert!(
        message.contains("Trip-garbled") && message.contains("missing field"),
        "{message}"
    );
    // Nothing ran for the broken ones: only the two good sagas' five steps each.
    assert_eq!(agency.calls().len(), 10);
}

#[tokio::test]
async fn a_step_that_times_out_is_compensated_because_it_may_have_happened() {
    // The flight is booked (the participant got the request) but the answer comes too late.
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::default());
    agency.stall_times("book_flight", 1);
    let executor = executor(&store, &agency).with_step_timeout(Duration::from_millis(20));
    let outcome = executor.start("t", trip()).await.expect("run");
    match &outcome {
        SagaOutcome::Compensated {
            failed_step, error, ..
        } => {
            assert_eq!(failed_step, "book_flight");
            assert!(
                error.contains("timed out after 20ms, outcome unknown"),
                "{error}"
            );
        }
        other => panic!("expected compensation, got {other:?}"),
    }
    assert_eq!(
        agency.calls(),
        ["book_hotel", "book_flight", "cancel_flight", "cancel_hotel"]
    );
    let cancelled: Vec<(String, String)> = agency.succeeded().into_iter().skip(1).collect();
    assert_eq!(
        cancelled,
        [
            (
                "cancel_flight".into(),
                "Trip/t/book_flight/compensate".into()
            ),
            ("cancel_hotel".into(), "Trip/t/book_hotel/compensate".into()),
        ]
    );
    let (_, events) = executor.history("t").await.expect("history");
    assert!(
        events.iter().any(|e| matches!(
            e,
            SagaEvent::StepTimedOut { step, attempt: 1, timeout_ms: 20, .. } if step == "book_flight"
        )),
        "the timeout is recorded: {events:?}"
    );
}

#[tokio::test]
async fn a_pivot_that_times_out_is_run_again_with_its_key_until_its_answer_is_definite() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::default());
    agency.stall_times("pay", 1);
    let executor = executor(&store, &agency);
    let outcome = executor.start("t", trip()).await.expect("run");
    assert!(
        matches!(outcome, SagaOutcome::Completed { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        agency.calls(),
        ["book_hotel", "book_flight", "log", "pay", "pay", "email"]
    );
    let pay_keys: Vec<String> = agency
        .keys()
        .into_iter()
        .filter(|(name, _)| name == "pay")
        .map(|(_, key)| key)
        .collect();
    assert_eq!(pay_keys, ["Trip/t/pay", "Trip/t/pay"]);
    let types = event_types(&executor, "t").await;
    let pay: Vec<&str> = types
        .iter()
        .map(String::as_str)
        .filter(|t| t.ends_with(":pay"))
        .collect();
    assert_eq!(
        pay,
        [
            "StepStarted:pay",
            "StepTimedOut:pay",
            "StepStarted:pay",
            "StepCompleted:pay"
        ]
    );
}

#[tokio::test]
async fn a_pivot_that_keeps_timing_out_ends_failed_without_compensating() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::default());
    agency.stall_times("pay", 3);
    let executor = executor(&store, &agency);
    let outcome = executor.start("t", trip()).await.expect("run");
    match &outcome {
        SagaOutcome::Failed {
            reason,
            failed_compensations,
            data,
        } => {
            assert!(
                reason.contains("`pay` is unknown") && reason.contains("3 times"),
                "{reason}"
            );
            assert!(failed_compensations.is_empty());
            assert!(data.hotel.is_some() && data.flight.is_some());
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(!agency.calls().iter().any(|call| call.starts_with("cancel")));
    let (_, events) = executor.history("t").await.expect("history");
    let timeouts = events
        .iter()
        .filter(|e| matches!(e, SagaEvent::StepTimedOut { timeout_ms: 50, .. }))
        .count();
    assert_eq!(timeouts, 3, "the declared 50 ms timeout, three attempts");
    // Once the payment service answers again, an operator retries it: same key, forward.
    let retried = executor.retry_failed("t").await.expect("retry");
    assert!(
        matches!(retried, SagaOutcome::Completed { .. }),
        "{retried:?}"
    );
    assert_eq!(
        agency.succeeded().last().map(|(name, _)| name.as_str()),
        Some("email")
    );
}

#[tokio::test]
async fn a_compensation_that_keeps_failing_does_not_stop_the_earlier_ones_and_can_be_retried() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::failing(&[("pay", 1), ("cancel_flight", 99)]));
    let executor = executor(&store, &agency);
    let outcome = executor.start("t", trip()).await.expect("run");
    match &outcome {
        SagaOutcome::Failed {
            reason,
            failed_compensations,
            data,
        } => {
            assert_eq!(failed_compensations, &["book_flight"]);
            assert!(reason.contains("book_flight"), "{reason}");
            assert!(reason.contains("cancel_flight refused"), "{reason}");
            assert!(data.flight.is_some(), "the flight is still booked");
            assert!(data.hotel.is_none(), "the hotel was released all the same");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let compensations = |agency: &Agency| -> Vec<(String, String)> {
        agency
            .succeeded()
            .into_iter()
            .filter(|(name, _)| name.starts_with("cancel"))
            .collect()
    };
    assert_eq!(
        compensations(&agency),
        [("cancel_hotel".into(), "Trip/t/book_hotel/compensate".into())]
    );
    let types = event_types(&executor, "t").await;
    assert_eq!(
        types[types.len() - 4..],
        [
            "CompensationFailed:book_flight",
            "CompensationGaveUp:book_flight",
            "StepCompensated:book_hotel",
            "SagaFailed"
        ]
    );
    // A failed saga stays failed for `resume` and `recover`: only an operator retries it.
    let calls = agency.calls().len();
    let resumed = executor.resume("t").await.expect("resume");
    assert_eq!(resumed, outcome);
    let recovered = executor.recover().await.expect("recover");
    assert!(recovered.resumed.is_empty() && recovered.left_running.is_empty());
    assert_eq!(agency.calls().len(), calls);

    agency.fix("cancel_flight");
    let retried = executor.retry_failed("t").await.expect("retry");
    match &retried {
        SagaOutcome::Compensated {
            data, failed_step, ..
        } => {
            assert_eq!(failed_step, "pay");
            assert_eq!((&data.hotel, &data.flight), (&None, &None));
        }
        other => panic!("expected compensation, got {other:?}"),
    }
    assert_eq!(
        compensations(&agency),
        [
            ("cancel_hotel".into(), "Trip/t/book_hotel/compensate".into()),
            (
                "cancel_flight".into(),
                "Trip/t/book_flight/compensate".into()
            ),
        ],
        "every compensation succeeded exactly once, with its key"
    );
    let types = event_types(&executor, "t").await;
    assert_eq!(
        types[types.len() - 3..],
        [
            "SagaRetried",
            "StepCompensated:book_flight",
            "SagaCompensated"
        ]
    );
    // Retrying again changes nothing.
    assert_eq!(executor.retry_failed("t").await.expect("again"), retried);
}

#[tokio::test]
async fn a_saga_failed_by_an_earlier_version_can_be_retried() {
    // As the executor recorded it before `CompensationGaveUp`: the saga failed at the first
    // compensation that kept failing, and the hotel was never released. Stored JSON, as is.
    let store = Arc::new(InMemoryEventStore::new());
    let trip_json = serde_json::to_value(trip()).expect("json");
    let hotel = serde_json::json!({"traveller": "ada", "hotel": "hotel for ada", "flight": null});
    let both = serde_json::json!({"traveller": "ada", "hotel": "hotel for ada", "flight": "flight for ada"});
    let stored = [
        serde_json::json!({"type": "SagaStarted", "saga_id": "old", "data": trip_json}),
        serde_json::json!({"type": "StepStarted", "step": "book_hotel", "index": 0, "attempt": 1}),
        serde_json::json!({"type": "StepCompleted", "step": "book_hotel", "index": 0, "data": hotel}),
        serde_json::json!({"type": "StepStarted", "step": "book_flight", "index": 1, "attempt": 1}),
        serde_json::json!({"type": "StepCompleted", "step": "book_flight", "index": 1, "data": both}),
        serde_json::json!({"type": "StepStarted", "step": "log", "index": 2, "attempt": 1}),
        serde_json::json!({"type": "StepCompleted", "step": "log", "index": 2, "data": null}),
        serde_json::json!({"type": "StepStarted", "step": "pay", "index": 3, "attempt": 1}),
        serde_json::json!({"type": "StepFailed", "step": "pay", "index": 3, "attempt": 1, "error": "timed out after 50ms", "data": null}),
        serde_json::json!({"type": "CompensationStarted", "failed_step": "pay", "error": "timed out after 50ms"}),
        serde_json::json!({"type": "CompensationFailed", "step": "book_flight", "index": 1, "attempt": 1, "error": "down", "data": null}),
        serde_json::json!({"type": "SagaFailed", "reason": "compensation of step `book_flight` failed 1 times, last: down"}),
    ];
    for payload in stored {
        let event_type = payload["type"].as_str().expect("type").to_owned();
        append_raw(&store, "old", &event_type, payload).await;
    }
    let agency = Arc::new(Agency::default());
    let executor = executor(&store, &agency);
    match executor.resume("old").await.expect("read") {
        SagaOutcome::Failed {
            failed_compensations,
            ..
        } => assert_eq!(failed_compensations, ["book_flight"]),
        other => panic!("expected the recorded failure, got {other:?}"),
    }
    let retried = executor.retry_failed("old").await.expect("retry");
    assert!(
        matches!(&retried, SagaOutcome::Compensated { failed_step, .. } if failed_step == "pay"),
        "{retried:?}"
    );
    assert_eq!(agency.calls(), ["cancel_flight", "cancel_hotel"]);
}

#[tokio::test]
async fn a_retry_cut_short_by_a_crash_is_recovered() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::failing(&[("pay", 1), ("cancel_flight", 99)]));
    let executor = executor(&store, &agency).with_takeover_after(Duration::ZERO);
    executor.start("t", trip()).await.expect("run");
    // The operator's retry recorded `SagaRetried`, then its process died.
    append(&store, "t", &[SagaEvent::SagaRetried]).await;
    agency.fix("cancel_flight");
    let recovered = executor.recover().await.expect("recover");
    assert_eq!(recovered.resumed.len(), 1, "{recovered:?}");
    assert!(matches!(
        recovered.resumed[0].1,
        SagaOutcome::Compensated { .. }
    ));
}

#[tokio::test]
async fn recover_leaves_alone_a_saga_another_executor_is_running() {
    on_every_store!(recover_leaves_a_running_saga_alone);
}

async fn recover_leaves_a_running_saga_alone<S: EventStore + 'static>(store: Arc<S>) {
    let running_agency = Arc::new(Agency::default());
    *running_agency.hold.lock().expect("hold") = Some("book_hotel");
    let running = executor_on(Arc::clone(&store), &running_agency);
    let first = tokio::spawn(async move { running.start("t", trip()).await });
    running_agency.called("book_hotel").await;

    let recovering_agency = Arc::new(Agency::default());
    let recovering = executor_on(Arc::clone(&store), &recovering_agency);
    let recovered = recovering.recover().await.expect("recover");
    assert_eq!(recovered.left_running, ["t"]);
    assert!(recovered.resumed.is_empty() && recovered.is_clean());
    assert!(
        recovering_agency.calls().is_empty(),
        "nothing ran twice: {:?}",
        recovering_agency.calls()
    );

    running_agency.release.notify_one();
    let outcome = first.await.expect("task").expect("run");
    assert!(
        matches!(outcome, SagaOutcome::Completed { .. }),
        "{outcome:?}"
    );
    assert_eq!(running_agency.calls().len(), 5);
    let (_, events) = recovering.history("t").await.expect("history");
    let hotel_starts = events
        .iter()
        .filter(|e| matches!(e, SagaEvent::StepStarted { step, .. } if step == "book_hotel"))
        .count();
    assert_eq!(hotel_starts, 1);
}

#[tokio::test]
async fn an_executor_that_lost_the_saga_reports_its_real_outcome() {
    on_every_store!(lost_saga_reports_its_real_outcome);
}

async fn lost_saga_reports_its_real_outcome<S: EventStore + 'static>(store: Arc<S>) {
    let slow_agency = Arc::new(Agency::default());
    *slow_agency.hold.lock().expect("hold") = Some("book_hotel");
    let slow = executor_on(Arc::clone(&store), &slow_agency);
    let first = tokio::spawn(async move { slow.start("t", trip()).await });
    slow_agency.called("book_hotel").await;
    // A recovering process that believes the first one dead takes the saga over.
    let fast = executor_on(Arc::clone(&store), &Arc::new(Agency::default()))
        .with_takeover_after(Duration::ZERO);
    let recovered = fast.recover().await.expect("recover");
    assert_eq!(recovered.resumed.len(), 1, "{recovered:?}");
    let taken_over = recovered.resumed[0].1.clone();
    assert!(matches!(taken_over, SagaOutcome::Completed { .. }));
    slow_agency.release.notify_one();
    let lost = first.await.expect("task");
    assert_eq!(lost.expect("the real outcome"), taken_over);
    let (_, events) = fast.history("t").await.expect("history");
    let ends = events.iter().filter(|e| e.is_terminal()).count();
    assert_eq!(ends, 1);
    let hotel_completions = events
        .iter()
        .filter(|e| matches!(e, SagaEvent::StepCompleted { step, .. } if step == "book_hotel"))
        .count();
    assert_eq!(
        hotel_completions, 1,
        "the loser's completion is not recorded"
    );
}

#[tokio::test]
async fn a_saga_quiet_past_the_takeover_threshold_is_recovered() {
    let store = Arc::new(InMemoryEventStore::new());
    append(&store, "t", &[started("t")]).await;
    let agency = Arc::new(Agency::default());
    // With the default threshold the fresh saga is presumed running; with none, it is taken.
    let patient = executor(&store, &agency);
    assert_eq!(
        patient.recover().await.expect("recover").left_running,
        ["t"]
    );
    let eager = executor(&store, &agency).with_takeover_after(Duration::ZERO);
    let recovered = eager.recover().await.expect("recover");
    assert_eq!(recovered.resumed.len(), 1);
    assert_eq!(agency.calls().len(), 5);
}

#[tokio::test]
async fn saga_events_are_stored_like_other_events() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::default());
    let executor = executor(&store, &agency);
    executor.start("t", trip()).await.expect("run");
    let stored = store.read_stream("Trip-t", 1).await.expect("stream");
    let (_, events) = executor.history("t").await.expect("history");
    assert_eq!(stored.len(), events.len());
    for (envelope, event) in stored.into_iter().zip(&events) {
        assert_eq!(
            envelope.event_type,
            event.event_type(),
            "the name is the event type"
        );
        assert_eq!(envelope.event_version, 2);
        assert!(
            envelope.payload.get("type").is_none(),
            "the payload does not repeat the name: {}",
            envelope.payload
        );
        let decoded = envelope
            .decode::<SagaEvent>()
            .expect("decodes as an EventSet");
        assert_eq!(&decoded.payload, event);
    }
}

#[tokio::test]
async fn a_saga_recorded_in_the_old_form_loads_and_recovers() {
    on_every_store!(old_form_loads_and_recovers);
}

/// A saga that completed its first step under the old encoding, then crashed.
async fn old_form_loads_and_recovers<S: EventStore + 'static>(store: Arc<S>) {
    let hotel = Trip {
        hotel: Some("hotel for ada".to_owned()),
        ..trip()
    };
    let history = [
        started("t"),
        SagaEvent::StepStarted {
            step: "book_hotel".to_owned(),
            index: 0,
            attempt: 1,
        },
        SagaEvent::StepCompleted {
            step: "book_hotel".to_owned(),
            index: 0,
            data: Some(serde_json::to_value(&hotel).expect("json")),
        },
    ];
    append(store.as_ref(), "t", &history).await;
    let agency = Arc::new(Agency::default());
    let executor = executor_on(Arc::clone(&store), &agency).with_takeover_after(Duration::ZERO);
    let (_, read) = executor.history("t").await.expect("the old form reads");
    assert_eq!(read, history);
    let recovered = executor.recover().await.expect("recover");
    assert!(recovered.is_clean(), "{:?}", recovered.failed);
    assert_eq!(recovered.resumed.len(), 1);
    assert!(matches!(
        &recovered.resumed[0].1,
        SagaOutcome::Completed { data } if data.hotel == hotel.hotel
    ));
    assert!(
        !agency.calls().iter().any(|call| call == "book_hotel"),
        "the step the old history records as done does not run again: {:?}",
        agency.calls()
    );
    let stored = store.read_stream("Trip-t", 1).await.expect("stream");
    let forms: Vec<u32> = stored.iter().map(|e| e.event_version).collect();
    assert!(forms[..3].iter().all(|&v| v == 1) && forms[3..].iter().all(|&v| v == 2));
    let (log, all) = executor.history("t").await.expect("both forms read");
    assert_eq!(all[..3], history);
    assert!(log.phase.is_terminal());
}

#[tokio::test]
async fn recover_reads_only_the_sagas_events() {
    let store = Arc::new(Recording::new(InMemoryEventStore::new()));
    let other = || NewEvent {
        aggregate_type: "Account".to_owned(),
        ..aggregato::testing::conformance::sample_event(0)
    };
    for n in 0..50 {
        let stream = format!("Account-{n}");
        store
            .append(&stream, ExpectedVersion::Any, vec![other()])
            .await
            .expect("append");
    }
    append(store.as_ref(), "t", &[started("t")]).await;
    let agency = Arc::new(Agency::default());
    let executor = executor_on(Arc::clone(&store), &agency).with_takeover_after(Duration::ZERO);
    let recovered = executor.recover().await.expect("recover");
    assert_eq!(recovered.resumed.len(), 1);
    let reads = store.reads.lock().expect("reads").clone();
    assert!(!reads.is_empty());
    assert!(
        reads
            .iter()
            .all(|(filter, _)| filter == &EventFilter::all().aggregate_types(["Trip"])),
        "recover reads the log through a filter on the saga type: {reads:?}"
    );
    let returned: usize = reads.iter().map(|(_, count)| count).sum();
    assert_eq!(returned, 1, "only the saga's event came back from the log");
}

/// A store that records the filter of every read of the global log made through it, and how
/// many events each returned.
struct Recording<S> {
    inner: S,
    reads: Mutex<Vec<(EventFilter, usize)>>,
}

impl<S> Recording<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            reads: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait::async_trait]
impl<S: EventStore> EventStore for Recording<S> {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Vec<EventEnvelope<()>>, StoreError> {
        self.inner.append(stream, expected, events).await
    }

    async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        self.inner.read_stream(stream, from_version).await
    }

    async fn replay_stream(
        &self,
        stream: &str,
        from_version: u64,
        visit: &mut ReplayVisitor<'_>,
    ) -> Result<(), StoreError> {
        self.inner.replay_stream(stream, from_version, visit).await
    }

    async fn read_all_filtered(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let page = self
            .inner
            .read_all_filtered(after_position, limit, filter)
            .await?;
        let read = (filter.clone(), page.len());
        self.reads.lock().expect("reads").push(read);
        Ok(page)
    }

    async fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        self.inner.stream_version(stream).await
    }
}
