//! One correlation id from the request that started an order saga through every event it
//! causes: the saga's own, and those of the commands its steps send; each command the cause of
//! its events, and a step run again (after a crash) sending the same command, not a second.

use std::collections::HashSet;
use std::sync::Arc;

use aggregato::prelude::*;
use aggregato::saga::{Saga, SagaExecutor, SagaOutcome, StepAction, StepKey};
use aggregato_examples::order_saga::*;
use aggregato_examples::shop::*;
use uuid::Uuid;

async fn shop() -> (SharedStore, ShopServices) {
    let store: SharedStore = Arc::new(InMemoryEventStore::new());
    let services = ShopServices::new(Arc::clone(&store));
    services
        .inventory
        .execute(&Sku(DEMO_SKU.to_owned()), Restock { quantity: 100 })
        .await
        .expect("stock");
    (store, services)
}

#[tokio::test]
async fn a_saga_carries_its_correlation_through_every_event_it_causes() {
    let (store, services) = shop().await;
    let executor = SagaExecutor::new(Arc::clone(&store), services.clone());
    let request = Uuid::now_v7();
    let order = demo_order(1);
    let outcome = executor
        .start_correlated("order-1", order.clone(), request)
        .await
        .expect("run");
    assert!(
        matches!(outcome, SagaOutcome::Completed { .. }),
        "{outcome:?}"
    );

    let events = store.read_all(0, 1_000).await.expect("read");
    let caused: Vec<_> = events
        .iter()
        .filter(|event| event.metadata.correlation_id == Some(request))
        .collect();
    let participants: Vec<_> = caused
        .iter()
        .filter(|event| event.aggregate_type != "PlaceOrder")
        .collect();
    assert_eq!(
        participants
            .iter()
            .map(|event| event.event_type.as_str())
            .collect::<Vec<_>>(),
        ["StockReserved", "PaymentCharged", "OrderShipped"],
        "every participant event carries the request's correlation"
    );
    let saga_events = events
        .iter()
        .filter(|event| event.aggregate_type == "PlaceOrder")
        .count();
    assert_eq!(
        caused.len(),
        saga_events + participants.len(),
        "the saga's own events carry it too, and nothing else does"
    );
    let causes: HashSet<_> = participants
        .iter()
        .map(|event| event.metadata.causation_id.expect("a cause"))
        .collect();
    assert_eq!(
        causes.len(),
        3,
        "each step's command is the cause of its events"
    );

    // A step run again with its key (a recovery after a crash) sends the same command: the
    // stored events come back, with the same cause, and no second reservation is made.
    let key = StepKey::new(
        PlaceOrder::SAGA_TYPE,
        "order-1",
        "reserve_stock",
        StepAction::Run,
    )
    .with_correlation_id(request);
    let again = services
        .inventory
        .execute_idempotent(
            &order.sku,
            ReserveStock {
                order_id: order.order_id.clone(),
                quantity: order.quantity,
            },
            key.as_str(),
            key.metadata(),
        )
        .await
        .expect("the same command again");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].event_id, participants[0].event_id);
    assert_eq!(
        again[0].metadata.causation_id,
        participants[0].metadata.causation_id
    );
    let stock = services
        .inventory
        .load(&order.sku)
        .await
        .expect("load the stock");
    assert_eq!(stock.version(), 2, "restocked, then reserved once");
}

#[tokio::test]
async fn a_saga_started_without_a_correlation_gets_one_of_its_own() {
    let (store, services) = shop().await;
    let executor = SagaExecutor::new(Arc::clone(&store), services);
    executor.start("order-2", demo_order(2)).await.expect("run");
    let events = store.read_all(0, 1_000).await.expect("read");
    let correlations: HashSet<_> = events
        .iter()
        .filter(|event| event.stream_id.contains("order-2"))
        .map(|event| event.metadata.correlation_id)
        .collect();
    assert_eq!(
        correlations.len(),
        1,
        "the saga and its participants share one correlation: {correlations:?}"
    );
    assert!(correlations.iter().all(Option::is_some));
}
