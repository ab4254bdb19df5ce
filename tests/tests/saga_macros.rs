//! The code `#[derive(Saga)]` and `#[saga_steps]` generate, driven by the real
//! `SagaExecutor` on the in-memory store: the declared order, the compensations the marks
//! name, the idempotency keys, the timeouts and the step enum.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use aggregato::prelude::*;
use aggregato::saga::{
    Saga, SagaEvent, SagaExecutor, SagaOutcome, SagaSteps, StepAction, StepError, StepInfo,
    StepKey, StepKind, StepResult,
};
use serde::{Deserialize, Serialize};

/// The shop the steps call: it records every call with the key it got, and fails the calls
/// it was told to. Clones share the record, so a test keeps one to read it.
#[derive(Clone, Default)]
struct Shop(Arc<ShopState>);

#[derive(Default)]
struct ShopState {
    calls: Mutex<Vec<(String, StepKey)>>,
    failures_left: Mutex<HashMap<&'static str, u32>>,
}

impl Shop {
    /// A shop where `step` fails its first `times` calls.
    fn failing(step: &'static str, times: u32) -> Self {
        let shop = Self::default();
        lock(&shop.0.failures_left).insert(step, times);
        shop
    }

    /// Records the call; `Err` if this call is one that should fail.
    fn call(&self, name: &str, key: &StepKey) -> Result<(), Declined> {
        lock(&self.0.calls).push((name.to_owned(), key.clone()));
        match lock(&self.0.failures_left).get_mut(name) {
            Some(left) if *left > 0 => {
                *left -= 1;
                Err(Declined(name.to_owned()))
            }
            _ => Ok(()),
        }
    }

    fn calls(&self) -> Vec<(String, StepKey)> {
        lock(&self.0.calls).clone()
    }

    fn call_names(&self) -> Vec<String> {
        self.calls().into_iter().map(|(name, _)| name).collect()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A step's own error type: the dispatch records its `Display`.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` was declined")]
struct Declined(String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Saga)]
#[saga(name = "PlaceOrder", services = Shop)]
struct PlaceOrderSaga {
    order_id: String,
    reservation: Option<String>,
    payment: Option<String>,
    shipped: bool,
    notified: bool,
}

#[saga_steps(step_enum = PlaceOrderStep)]
impl PlaceOrderSaga {
    #[step(compensate = release_stock)]
    async fn reserve_stock(&mut self, shop: &Shop, key: StepKey) -> StepResult {
        shop.call("reserve_stock", &key).map_err(StepError::new)?;
        self.reservation = Some(format!("reservation-{}", self.order_id));
        Ok(())
    }

    #[step(compensate = refund)]
    async fn charge_card(&mut self, shop: &Shop, key: StepKey) -> Result<(), Declined> {
        shop.call("charge_card", &key)?;
        self.payment = Some(format!("payment-{}", self.order_id));
        Ok(())
    }

    #[step(pivot)]
    async fn ship(&mut self, shop: &Shop, key: StepKey) -> Result<(), Declined> {
        shop.call("ship", &key)?;
        self.shipped = true;
        Ok(())
    }

    #[step(no_compensation)]
    async fn notify(&mut self, shop: &Shop, key: StepKey) -> Result<(), Declined> {
        shop.call("notify", &key)?;
        self.notified = true;
        Ok(())
    }

    async fn release_stock(&mut self, shop: &Shop, key: StepKey) -> Result<(), Declined> {
        shop.call("release_stock", &key)?;
        self.reservation = None;
        Ok(())
    }

    async fn refund(&mut self, shop: &Shop, key: StepKey) -> Result<(), Declined> {
        shop.call("refund", &key)?;
        self.payment = None;
        Ok(())
    }
}

fn order(id: &str) -> PlaceOrderSaga {
    PlaceOrderSaga {
        order_id: id.to_owned(),
        reservation: None,
        payment: None,
        shipped: false,
        notified: false,
    }
}

fn executor(shop: &Shop) -> SagaExecutor<PlaceOrderSaga, InMemoryEventStore> {
    SagaExecutor::new(InMemoryEventStore::new(), shop.clone())
        .with_forward_retry(RetryPolicy::immediate(3))
        .with_compensation_retry(RetryPolicy::immediate(3))
}

/// Each recorded event as its type, with the step it concerns if any.
fn transitions(events: &[SagaEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            SagaEvent::StepStarted { step, .. }
            | SagaEvent::StepCompleted { step, .. }
            | SagaEvent::StepFailed { step, .. }
            | SagaEvent::StepCompensated { step, .. }
            | SagaEvent::CompensationFailed { step, .. } => {
                format!("{} {step}", event.event_type())
            }
            other => other.event_type().to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn the_happy_path_runs_every_step_in_declaration_order() {
    let shop = Shop::default();
    let executor = executor(&shop);
    let outcome = executor.start("o-1", order("o-1")).await.unwrap();

    let SagaOutcome::Completed { data } = outcome else {
        panic!("expected the saga to complete, got {outcome:?}");
    };
    assert_eq!(data.reservation.as_deref(), Some("reservation-o-1"));
    assert_eq!(data.payment.as_deref(), Some("payment-o-1"));
    assert!(data.shipped && data.notified);
    assert_eq!(
        shop.call_names(),
        ["reserve_stock", "charge_card", "ship", "notify"]
    );

    let (_, events) = executor.history("o-1").await.unwrap();
    assert_eq!(
        transitions(&events),
        [
            "SagaStarted",
            "StepStarted reserve_stock",
            "StepCompleted reserve_stock",
            "StepStarted charge_card",
            "StepCompleted charge_card",
            "StepStarted ship",
            "StepCompleted ship",
            "StepStarted notify",
            "StepCompleted notify",
            "SagaCompleted",
        ]
    );
    let recorded_indexes: Vec<usize> = events
        .iter()
        .filter_map(|event| match event {
            SagaEvent::StepCompleted { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(recorded_indexes, [0, 1, 2, 3]);
}

#[tokio::test]
async fn a_failure_at_step_two_compensates_step_one_only() {
    let shop = Shop::failing("charge_card", 1);
    let executor = executor(&shop);
    let outcome = executor.start("o-2", order("o-2")).await.unwrap();

    let SagaOutcome::Compensated {
        data,
        failed_step,
        error,
    } = outcome
    else {
        panic!("expected the saga to be compensated, got {outcome:?}");
    };
    assert_eq!(failed_step, "charge_card");
    // The step returned `Result<(), Declined>`; the dispatch recorded its `Display`.
    assert_eq!(error, "`charge_card` was declined");
    assert_eq!(data.reservation, None, "release_stock undid reserve_stock");
    assert_eq!(data.payment, None);

    assert_eq!(
        shop.call_names(),
        ["reserve_stock", "charge_card", "release_stock"],
        "refund must not run: charge_card never completed"
    );
    let (_, events) = executor.history("o-2").await.unwrap();
    assert_eq!(
        transitions(&events),
        [
            "SagaStarted",
            "StepStarted reserve_stock",
            "StepCompleted reserve_stock",
            "StepStarted charge_card",
            "StepFailed charge_card",
            "CompensationStarted",
            "StepCompensated reserve_stock",
            "SagaCompensated",
        ]
    );
}

#[tokio::test]
async fn after_the_pivot_a_failure_is_retried_forward_not_compensated() {
    let shop = Shop::failing("notify", 2);
    let executor = executor(&shop);
    let outcome = executor.start("o-3", order("o-3")).await.unwrap();

    assert!(
        matches!(&outcome, SagaOutcome::Completed { data } if data.notified),
        "expected completion after retries, got {outcome:?}"
    );
    assert_eq!(
        shop.call_names(),
        [
            "reserve_stock",
            "charge_card",
            "ship",
            "notify",
            "notify",
            "notify"
        ],
        "notify comes after the pivot `ship`: retried, and nothing compensated"
    );
}

#[tokio::test]
async fn each_step_gets_the_key_of_its_saga_instance_and_step() {
    let shop = Shop::failing("ship", 1);
    let executor = executor(&shop);
    executor.start("o-4", order("o-4")).await.unwrap();

    let keys: Vec<(String, String, StepAction)> = shop
        .calls()
        .into_iter()
        .map(|(name, key)| (name, key.as_str().to_owned(), key.action()))
        .collect();
    // `ship` is the pivot: its failure compensates the steps before it, newest first.
    assert_eq!(
        keys,
        [
            (
                "reserve_stock".into(),
                "PlaceOrder/o-4/reserve_stock".into(),
                StepAction::Run
            ),
            (
                "charge_card".into(),
                "PlaceOrder/o-4/charge_card".into(),
                StepAction::Run
            ),
            ("ship".into(), "PlaceOrder/o-4/ship".into(), StepAction::Run),
            (
                "refund".into(),
                "PlaceOrder/o-4/charge_card/compensate".into(),
                StepAction::Compensate
            ),
            (
                "release_stock".into(),
                "PlaceOrder/o-4/reserve_stock/compensate".into(),
                StepAction::Compensate
            ),
        ]
    );
    let (name, key) = &shop.calls()[1];
    assert_eq!((name.as_str(), key.step()), ("charge_card", "charge_card"));
}

#[test]
fn the_step_enum_matches_the_declared_steps() {
    let steps = <PlaceOrderSaga as SagaSteps>::STEPS;
    assert_eq!(
        steps,
        [
            StepInfo {
                name: "reserve_stock",
                kind: StepKind::Compensable {
                    compensation: "release_stock"
                },
                timeout: None,
            },
            StepInfo {
                name: "charge_card",
                kind: StepKind::Compensable {
                    compensation: "refund"
                },
                timeout: None,
            },
            StepInfo {
                name: "ship",
                kind: StepKind::Pivot,
                timeout: None,
            },
            StepInfo {
                name: "notify",
                kind: StepKind::NoCompensation,
                timeout: None,
            },
        ]
    );
    assert_eq!(PlaceOrderStep::ALL.len(), steps.len());
    for (index, (step, info)) in PlaceOrderStep::ALL.iter().zip(steps).enumerate() {
        assert_eq!(step.index(), index);
        assert_eq!(step.name(), info.name);
        assert_eq!(PlaceOrderStep::from_name(info.name), Some(*step));
    }
    assert_eq!(PlaceOrderStep::ChargeCard.name(), "charge_card");
    assert_eq!(
        PlaceOrderStep::from_name("refund"),
        None,
        "a compensation is no step"
    );
    assert_eq!(PlaceOrderSaga::SAGA_TYPE, "PlaceOrder");
}

/// A saga with a step that outlives its `timeout_ms`, with the defaults: its name is the
/// struct's and its services are `()`.
#[derive(Debug, Default, Serialize, Deserialize, Saga)]
struct SlowSaga {
    prepared: bool,
}

#[saga_steps]
impl SlowSaga {
    #[step(compensate = unprepare)]
    async fn prepare(&mut self, _: &(), _key: StepKey) -> StepResult {
        self.prepared = true;
        Ok(())
    }

    #[step(no_compensation, timeout_ms = 20)]
    async fn wait_for_carrier(&mut self, _: &(), _key: StepKey) -> StepResult {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(())
    }

    async fn unprepare(&mut self, _: &(), _key: StepKey) -> StepResult {
        self.prepared = false;
        Ok(())
    }
}

#[tokio::test]
async fn a_step_slower_than_its_timeout_fails_and_is_compensated() {
    assert_eq!(SlowSaga::SAGA_TYPE, "SlowSaga");
    assert_eq!(SlowSaga::STEPS[1].timeout, Some(Duration::from_millis(20)));
    assert_eq!(SlowSagaStep::WaitForCarrier.index(), 1);

    let executor = SagaExecutor::<SlowSaga, _>::new(InMemoryEventStore::new(), ());
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        executor.start("s-1", SlowSaga::default()),
    )
    .await
    .expect("the step's own timeout ends it long before this one")
    .unwrap();

    let SagaOutcome::Compensated {
        data,
        failed_step,
        error,
    } = outcome
    else {
        panic!("expected the saga to be compensated, got {outcome:?}");
    };
    assert_eq!(failed_step, "wait_for_carrier");
    // A timed-out step may have happened: the error says so.
    assert_eq!(error, "timed out after 20ms, outcome unknown");
    assert!(!data.prepared, "unprepare ran");
}
