//! The inventory service of the order saga split across two processes (see
//! `aggregato_examples::order_services`): keeps the stock in its own store, reserves stock for
//! each `OrderPlaced` it consumes from NATS JetStream (or refuses the order when too little is
//! left), and publishes its answers through the outbox (routes `stock.reserved` and
//! `stock.refused`). Runs until Ctrl-C.
//!
//! ```text
//! inventory_service [--stock N] [--nats URL] [--prefix P] [--stream NAME]
//!                   [--sqlite PATH | --postgres URL [--schema NAME]]
//! ```
//!
//! `--stock` (default 10): the mugs stocked when the store has none yet. The NATS and store
//! options are those of `aggregato_examples::order_services::bus::Common`.
//!
//! Each message is handled by one command, idempotent by the message id, and acked after it
//! committed: a message delivered again prints `again` and changes nothing.

use aggregato::outbox::nats::async_nats::jetstream;
use aggregato::prelude::*;
use aggregato_examples::order_services::SKU;
use aggregato_examples::order_services::bus::{self, BoxError, Bus, Common};
use aggregato_examples::order_services::inventory::*;
use aggregato_examples::order_services::orders::OrderEvent;
use aggregato_examples::shop::Sku;
use futures_util::StreamExt as _;

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("inventory_service: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let (common, others) = Common::from_args(std::env::args().skip(1))?;
    let mut stock = 10_u32;
    for (flag, value) in others {
        match flag.as_str() {
            "--stock" => stock = bus::number(&flag, &value)?,
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }
    let opened = common.store.clone().open().await?;
    println!("inventory service: store {}", opened.description);
    let bus = Bus::connect(&common).await?;
    let repository: Repository<Stock, _> = Repository::new(opened.store.clone());
    let sku = Sku(SKU.to_owned());
    if repository.load(&sku).await?.version() == 0 {
        repository
            .execute(&sku, Restock { quantity: stock })
            .await?;
        println!("stocked {stock} x {SKU}");
    }

    // The outbox publisher, in the background: the answers, each to its route.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let publisher = {
        let (store, database, broker) =
            (opened.store.clone(), opened.database.clone(), bus.broker());
        tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            let source = "urn:aggregato:inventory-service";
            bus::publish::<Stock, _>(store, &database, broker, source, shutdown).await
        })
    };

    let orders = bus.subscribe("inventory-service", "orders.placed").await?;
    println!(
        "ready: reserving stock for {}.orders.placed (Ctrl-C stops)",
        common.prefix
    );
    let result = tokio::select! {
        result = reserve(&repository, orders) => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    };
    let _ = stop.send(());
    publisher.await??;
    println!("stopped");
    result
}

/// Reserves stock for every order placed, one message at a time.
async fn reserve<S: EventStore>(
    repository: &Repository<Stock, S>,
    mut orders: jetstream::consumer::pull::Stream,
) -> Result<(), BoxError> {
    let sku = Sku(SKU.to_owned());
    while let Some(message) = orders.next().await {
        let message = message?;
        let cloud_event = bus::decode(&message)?;
        let OrderEvent::OrderPlaced(placed) = cloud_event.decode::<OrderEvent>()?.payload else {
            // Only `orders.placed` is subscribed to; anything else is not ours to handle.
            message.ack().await?;
            continue;
        };
        let before = repository.load(&sku).await?.version();
        let mut metadata = Metadata::new().with_causation_id(cloud_event.id);
        if let Some(correlation) = cloud_event.correlationid {
            metadata = metadata.with_correlation_id(correlation);
        }
        let order_id = placed.order_id.clone();
        let command = Reserve {
            order_id: placed.order_id,
            quantity: placed.quantity,
        };
        // Idempotent by the message id: a redelivery gets back the events the first delivery
        // stored, and stores nothing.
        let answer = repository
            .execute_idempotent(&sku, command, &cloud_event.id.to_string(), metadata)
            .await?;
        let again = answer.iter().all(|event| event.version <= before);
        let what = match answer.first().map(|event| &event.payload) {
            Some(StockEvent::StockReserved(reserved)) => format!(
                "reserved {} x {SKU}, {} left",
                reserved.quantity, reserved.available
            ),
            Some(StockEvent::ReservationRefused(refused)) => format!(
                "refused: {} asked for, {} left",
                refused.requested, refused.available
            ),
            Some(StockEvent::StockAdded(_)) | None => "answered before".to_owned(),
        };
        let again = if again {
            " (again: nothing new stored)"
        } else {
            ""
        };
        println!("[{order_id}] {what}{again}");
        // Only after the command committed: a crash before redelivers it.
        message.ack().await?;
    }
    Err("the NATS consumer ended".into())
}
