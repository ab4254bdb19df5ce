//! The order service of the order saga split across two processes (see
//! `aggregato_examples::order_services`): places orders in its own store, publishes their
//! `OrderPlaced` events to NATS JetStream through the outbox (route `orders.placed`), and
//! confirms or cancels each order as the inventory service's answers come back. It ends once
//! every order is settled.
//!
//! ```text
//! order_service [--orders N] [--timeout-secs S] [--nats URL] [--prefix P] [--stream NAME]
//!               [--sqlite PATH | --postgres URL [--schema NAME]]
//! ```
//!
//! `--orders` (default 5): orders `order-0` .. `order-{N-1}`, order `n` asking for
//! `1 + n % 3` mugs; placing is idempotent, so a second run on a kept store places only the
//! new ones. `--timeout-secs` (default 60): how long to wait for the answers. The NATS and
//! store options are those of `aggregato_examples::order_services::bus::Common`; run the
//! inventory service with the same `--nats`, `--prefix` and `--stream`.

use std::time::Duration;

use aggregato::outbox::nats::async_nats::jetstream;
use aggregato::prelude::*;
use aggregato_examples::order_services::SKU;
use aggregato_examples::order_services::bus::{self, BoxError, Bus, Common};
use aggregato_examples::order_services::inventory::StockEvent;
use aggregato_examples::order_services::orders::*;
use aggregato_examples::shop::{OrderId, Sku};
use futures_util::StreamExt as _;

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("order_service: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let (common, others) = Common::from_args(std::env::args().skip(1))?;
    let (mut orders, mut timeout) = (5_u32, Duration::from_secs(60));
    for (flag, value) in others {
        match flag.as_str() {
            "--orders" => orders = bus::number(&flag, &value)?,
            "--timeout-secs" => timeout = Duration::from_secs(bus::number(&flag, &value)?),
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }
    let opened = common.store.clone().open().await?;
    println!("order service: store {}", opened.description);
    let bus = Bus::connect(&common).await?;
    let repository: Repository<Order, _> = Repository::new(opened.store.clone());

    // The outbox publisher, in the background: every Order event, `OrderPlaced` to its route.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let publisher = {
        let (store, database, broker) =
            (opened.store.clone(), opened.database.clone(), bus.broker());
        tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            bus::publish::<Order, _>(
                store,
                &database,
                broker,
                "urn:aggregato:order-service",
                shutdown,
            )
            .await
        })
    };

    let ids: Vec<OrderId> = (0..orders).map(|n| OrderId(format!("order-{n}"))).collect();
    for (n, order_id) in (0_u32..).zip(&ids) {
        let place = PlaceOrder {
            order_id: order_id.clone(),
            sku: Sku(SKU.to_owned()),
            quantity: 1 + n % 3,
        };
        let quantity = place.quantity;
        if repository.execute(order_id, place).await?.is_empty() {
            println!("[{order_id}] placed before");
        } else {
            println!("[{order_id}] placed: {quantity} x {SKU}");
        }
    }

    let answers = bus.subscribe("order-service", "stock.*").await?;
    let waited = tokio::time::timeout(timeout, settle(&repository, answers, &ids)).await;
    let _ = stop.send(());
    publisher.await??;
    match waited {
        Ok(result) => result?,
        Err(_) => {
            return Err(format!(
                "not every order was answered within {timeout:?}: is the inventory service running with the same --nats, --prefix and --stream?"
            )
            .into());
        }
    }
    summarize(&repository, &ids).await
}

/// Confirms or cancels orders as the inventory's answers arrive, until every order of `ids`
/// is settled.
async fn settle<S: EventStore>(
    repository: &Repository<Order, S>,
    mut answers: jetstream::consumer::pull::Stream,
    ids: &[OrderId],
) -> Result<(), BoxError> {
    while unsettled(repository, ids).await? > 0 {
        let Some(message) = answers.next().await else {
            return Err("the NATS consumer ended".into());
        };
        let message = message?;
        let cloud_event = bus::decode(&message)?;
        let answer = cloud_event.decode::<StockEvent>()?;
        // Idempotent by the message: a redelivery finds this command's events and does nothing.
        let key = cloud_event.id.to_string();
        let mut metadata = Metadata::new().with_causation_id(cloud_event.id);
        if let Some(correlation) = cloud_event.correlationid {
            metadata = metadata.with_correlation_id(correlation);
        }
        match answer.payload {
            StockEvent::StockReserved(reserved) => {
                let order_id = reserved.order_id;
                let before = repository.load(&order_id).await?.version();
                let done = repository
                    .execute_idempotent(&order_id, ConfirmOrder, &key, metadata)
                    .await?;
                println!(
                    "[{order_id}] confirmed: {} x {SKU} reserved{}",
                    reserved.quantity,
                    again(&done, before)
                );
            }
            StockEvent::ReservationRefused(refused) => {
                let order_id = refused.order_id;
                let before = repository.load(&order_id).await?.version();
                let reason = format!(
                    "only {} left, {} asked for",
                    refused.available, refused.requested
                );
                let done = repository
                    .execute_idempotent(
                        &order_id,
                        CancelOrder {
                            reason: reason.clone(),
                        },
                        &key,
                        metadata,
                    )
                    .await?;
                println!("[{order_id}] cancelled: {reason}{}", again(&done, before));
            }
            StockEvent::StockAdded(_) => {}
        }
        // Only after the command committed: a crash before redelivers it.
        message.ack().await?;
    }
    Ok(())
}

/// How many orders of `ids` wait for an answer.
async fn unsettled<S: EventStore>(
    repository: &Repository<Order, S>,
    ids: &[OrderId],
) -> Result<usize, BoxError> {
    let mut waiting = 0;
    for id in ids {
        if !repository.load(id).await?.state().is_settled() {
            waiting += 1;
        }
    }
    Ok(waiting)
}

/// Says so when `events`, the command's, were stored before it ran (at or below `before`, the
/// order's version when it was loaded): the message came again.
fn again(events: &[EventEnvelope<OrderEvent>], before: u64) -> &'static str {
    if events.iter().all(|event| event.version <= before) {
        " (again: nothing new stored)"
    } else {
        ""
    }
}

async fn summarize<S: EventStore>(
    repository: &Repository<Order, S>,
    ids: &[OrderId],
) -> Result<(), BoxError> {
    let (mut confirmed, mut cancelled) = (0, 0);
    for id in ids {
        match repository.load(id).await?.state().status {
            OrderStatus::Confirmed => confirmed += 1,
            OrderStatus::Cancelled { .. } => cancelled += 1,
            _ => {}
        }
    }
    println!("orders: {confirmed} confirmed, {cancelled} cancelled");
    Ok(())
}
