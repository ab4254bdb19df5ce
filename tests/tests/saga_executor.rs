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
use aggregato::{EventStore, ExpectedVersion, InMemoryEventStore, RetryPolicy};
use serde::{Deserialize, Serialize};

/// A trip: book a hotel and a flight (both undoable), log (nothing to undo), pay (the pivot),
/// then e-mail the traveller (after the pivot: retried, never compensated).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Trip {
    traveller: String,
    hotel: Option<String>,
    flight: Option<String>,
}

/// Records every call; fails the named calls as many times as configured; can stall one.
#[derive(Default)]
struct Agency {
    calls: Mutex<Vec<String>>,
    failures: Mutex<HashMap<&'static str, u32>>,
    stall: Mutex<Option<&'static str>>,
    slow: Mutex<Option<(&'static str, Duration)>>,
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

    async fn call(&self, name: &'static str, key: &StepKey) -> Result<(), String> {
        self.calls.lock().expect("calls").push(name.to_owned());
        let stall = *self.stall.lock().expect("stall");
        if stall == Some(name) {
            tokio::time::sleep(Duration::from_secs(30)).await;
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
            _ => Ok(()),
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
    SagaExecutor::new(Arc::clone(store), Arc::clone(agency))
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
async fn a_compensation_that_keeps_failing_ends_in_a_visible_failure() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::failing(&[("pay", 1), ("cancel_flight", 99)]));
    let executor = executor(&store, &agency);
    let outcome = executor.start("t", trip()).await.expect("run");
    match &outcome {
        SagaOutcome::Failed { reason, data } => {
            assert!(reason.contains("book_flight"), "{reason}");
            assert!(reason.contains("cancel_flight refused"), "{reason}");
            assert!(
                data.flight.is_some(),
                "the flight is still booked: a human must look"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // Never silently: the hotel is not cancelled past a stuck compensation, and the end
    // is recorded.
    assert!(!agency.calls().contains(&"cancel_hotel".to_owned()));
    let (log, _) = executor.history("t").await.expect("history");
    assert!(log.phase.is_terminal());
    assert_eq!(
        event_types(&executor, "t").await.last().map(String::as_str),
        Some("SagaFailed")
    );
}

#[tokio::test]
async fn a_step_over_its_timeout_counts_as_failed() {
    let store = Arc::new(InMemoryEventStore::new());
    let agency = Arc::new(Agency::default());
    *agency.stall.lock().expect("stall") = Some("pay");
    let executor = executor(&store, &agency);
    let outcome = executor.start("t", trip()).await.expect("run");
    match outcome {
        SagaOutcome::Compensated {
            failed_step, error, ..
        } => {
            assert_eq!(failed_step, "pay");
            assert!(error.contains("timed out after 50ms"), "{error}");
        }
        other => panic!("expected compensation, got {other:?}"),
    }
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

/// Appends `events` to the saga's stream as the executor would have.
async fn append(store: &InMemoryEventStore, id: &str, events: &[SagaEvent]) {
    let new_events = events
        .iter()
        .map(|event| aggregato::NewEvent {
            event_id: uuid::Uuid::now_v7(),
            aggregate_type: "Trip".to_owned(),
            event_type: event.event_type().to_owned(),
            event_version: 1,
            metadata: aggregato::Metadata::default(),
            payload: serde_json::to_value(event).expect("json"),
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
                    | SagaEvent::StepCompensated { .. }
                    | SagaEvent::CompensationFailed { .. }
            )
        })
        .count();
    full_calls[finished..].to_vec()
}

#[tokio::test]
async fn recovery_resumes_from_a_history_cut_after_every_kind_of_event() {
    // Three runs that together record every kind of event.
    let scenarios: [&[(&'static str, u32)]; 3] = [
        &[],                                 // SagaStarted, StepStarted, StepCompleted, SagaCompleted
        &[("pay", 1), ("cancel_flight", 1)], // StepFailed, CompensationStarted,
        // StepCompensated, CompensationFailed, SagaCompensated
        &[("pay", 1), ("cancel_flight", 9)], // SagaFailed
    ];
    let mut kinds_cut_after = std::collections::BTreeSet::new();
    for failures in scenarios {
        let reference_store = Arc::new(InMemoryEventStore::new());
        let reference_agency = Arc::new(Agency::failing(failures));
        let reference = executor(&reference_store, &reference_agency);
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
            let recovering = executor(&store, &agency);
            let recovered = recovering.recover().await.expect("recover");
            let terminal_already = events[cut - 1].is_terminal();
            if terminal_already {
                assert!(recovered.is_empty(), "an ended saga is not resumed");
                continue;
            }
            assert_eq!(recovered.len(), 1, "cut after {cut} events");
            let (id, outcome) = &recovered[0];
            assert_eq!(id, "t");
            let outcome = outcome.as_ref().expect("resumed");
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
        "CompensationStarted",
        "StepCompensated",
        "CompensationFailed",
        "SagaCompleted",
        "SagaCompensated",
        "SagaFailed",
    ];
    for kind in every_kind {
        assert!(kinds_cut_after.contains(kind), "no cut after {kind}");
    }
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
    let executor = executor(&store, &agency);
    executor.start("done", trip()).await.expect("run");
    let started = |id: &str| SagaEvent::SagaStarted {
        saga_id: id.to_owned(),
        data: serde_json::to_value(trip()).expect("json"),
    };
    append(&store, "a", &[started("a")]).await;
    append(&store, "b", &[started("b")]).await;
    let before = agency.calls().len();
    let mut recovered = executor.recover().await.expect("recover");
    recovered.sort_by(|x, y| x.0.cmp(&y.0));
    let ids: Vec<&str> = recovered.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(
        recovered
            .iter()
            .all(|(_, o)| matches!(o, Ok(SagaOutcome::Completed { .. })))
    );
    assert_eq!(agency.calls().len() - before, 10);
    assert!(executor.recover().await.expect("again").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_that_lost_the_saga_to_another_stops_without_recording() {
    let store = Arc::new(InMemoryEventStore::new());
    let slow_agency = Arc::new(Agency::default());
    *slow_agency.slow.lock().expect("slow") = Some(("book_hotel", Duration::from_millis(300)));
    let slow = executor(&store, &slow_agency);
    let first = tokio::spawn(async move { slow.start("t", trip()).await });
    // Let the first executor record SagaStarted and StepStarted, then take over as a
    // recovering process would.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fast_agency = Arc::new(Agency::default());
    let fast = executor(&store, &fast_agency);
    let taken_over = fast
        .resume("t")
        .await
        .expect("the second executor finishes it");
    assert!(matches!(taken_over, SagaOutcome::Completed { .. }));
    let lost = first.await.expect("task");
    assert!(matches!(lost, Err(SagaError::Contended { .. })), "{lost:?}");
    let types = event_types(&fast, "t").await;
    let terminal = types.iter().filter(|t| *t == "SagaCompleted").count();
    assert_eq!(terminal, 1);
    let hotel_completions = types
        .iter()
        .filter(|t| *t == "StepCompleted:book_hotel")
        .count();
    assert_eq!(
        hotel_completions, 1,
        "the loser's completion is not recorded: {types:?}"
    );
}
