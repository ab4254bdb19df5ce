//! The seed's order saga: reserve stock, charge the payment, ship. Shipping is the pivot:
//! if reserving or charging or shipping fails, what was done is undone in reverse order;
//! once shipped, the order stands.
//!
//! Each step sends an idempotent command to a participant aggregate (see [`crate::shop`]),
//! all in the same store as the saga's own log, so a saga recovered after a crash can run
//! a step again without doing it twice.

use std::sync::Arc;
use std::time::Duration;

use aggregato::prelude::*;
use aggregato::saga::{SagaEvent, StepKey, StepResult};
use serde::{Deserialize, Serialize};

use crate::shop::*;

/// A store shared by every participant and the saga log.
pub type SharedStore = Arc<dyn crate::store::ExampleStore>;

/// What the order saga's steps call.
#[derive(Clone)]
pub struct ShopServices {
    /// The stock.
    pub inventory: Repository<Inventory, SharedStore>,
    /// Payments, one per order.
    pub payments: Repository<Payment, SharedStore>,
    /// Shipments, one per order.
    pub shipments: Repository<Shipment, SharedStore>,
    /// A pause before each step and compensation, standing in for a remote call's latency.
    pub step_delay: Duration,
}

impl std::fmt::Debug for ShopServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopServices")
            .field("step_delay", &self.step_delay)
            .finish_non_exhaustive()
    }
}

impl ShopServices {
    /// The participants on `store`, with no artificial latency.
    pub fn new(store: SharedStore) -> Self {
        Self {
            inventory: Repository::new(Arc::clone(&store)),
            payments: Repository::new(Arc::clone(&store)),
            shipments: Repository::new(store),
            step_delay: Duration::ZERO,
        }
    }

    async fn latency(&self) {
        if !self.step_delay.is_zero() {
            tokio::time::sleep(self.step_delay).await;
        }
    }
}

/// One order on its way through reservation, payment and shipping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Saga)]
#[saga(name = "PlaceOrder", services = ShopServices)]
pub struct PlaceOrder {
    /// The order.
    pub order_id: OrderId,
    /// What is ordered.
    pub sku: Sku,
    /// How many.
    pub quantity: u32,
    /// The price.
    pub amount_cents: u64,
    /// The customer's card limit.
    pub card_limit_cents: u64,
    /// Where to ship.
    pub address: String,
    /// Whether stock is held for it.
    pub reserved: bool,
    /// Whether it is charged.
    pub charged: bool,
    /// Whether it shipped.
    pub shipped: bool,
}

#[saga_steps]
impl PlaceOrder {
    /// Holds the stock.
    #[step(compensate = release_stock)]
    async fn reserve_stock(&mut self, shop: &ShopServices, key: StepKey) -> StepResult<String> {
        shop.latency().await;
        let command = ReserveStock {
            order_id: self.order_id.clone(),
            quantity: self.quantity,
        };
        shop.inventory
            .execute_idempotent(&self.sku, command, key.as_str(), key.metadata())
            .await
            .map_err(|error| error.to_string())?;
        self.reserved = true;
        Ok(())
    }

    /// Charges the customer.
    #[step(compensate = refund_payment)]
    async fn charge_payment(&mut self, shop: &ShopServices, key: StepKey) -> StepResult<String> {
        shop.latency().await;
        let command = ChargePayment {
            amount_cents: self.amount_cents,
            card_limit_cents: self.card_limit_cents,
        };
        shop.payments
            .execute_idempotent(&self.order_id, command, key.as_str(), key.metadata())
            .await
            .map_err(|error| error.to_string())?;
        self.charged = true;
        Ok(())
    }

    /// Hands the order to the carrier: the point of no return.
    #[step(pivot)]
    async fn ship(&mut self, shop: &ShopServices, key: StepKey) -> StepResult<String> {
        shop.latency().await;
        let command = ShipOrder {
            address: self.address.clone(),
        };
        shop.shipments
            .execute_idempotent(&self.order_id, command, key.as_str(), key.metadata())
            .await
            .map_err(|error| error.to_string())?;
        self.shipped = true;
        Ok(())
    }

    /// Gives the held stock back.
    async fn release_stock(&mut self, shop: &ShopServices, key: StepKey) -> StepResult<String> {
        shop.latency().await;
        let command = ReleaseStock {
            order_id: self.order_id.clone(),
        };
        shop.inventory
            .execute_idempotent(&self.sku, command, key.as_str(), key.metadata())
            .await
            .map_err(|error| error.to_string())?;
        self.reserved = false;
        Ok(())
    }

    /// Refunds the charge.
    async fn refund_payment(&mut self, shop: &ShopServices, key: StepKey) -> StepResult<String> {
        shop.latency().await;
        shop.payments
            .execute_idempotent(&self.order_id, RefundPayment, key.as_str(), key.metadata())
            .await
            .map_err(|error| error.to_string())?;
        self.charged = false;
        Ok(())
    }
}

/// One line describing a saga transition, for printing as it happens.
pub fn describe(saga_id: &str, event: &SagaEvent) -> String {
    let what = match event {
        SagaEvent::SagaStarted { .. } => "started".to_owned(),
        SagaEvent::StepStarted { step, attempt, .. } if *attempt > 1 => {
            format!("-> {step} (attempt {attempt})")
        }
        SagaEvent::StepStarted { step, .. } => format!("-> {step}"),
        SagaEvent::StepCompleted { step, .. } => format!("ok {step}"),
        SagaEvent::StepFailed { step, error, .. } => format!("!! {step} failed: {error}"),
        SagaEvent::StepTimedOut {
            step, timeout_ms, ..
        } => format!("?? {step} timed out after {timeout_ms} ms: it may have happened"),
        SagaEvent::CompensationStarted { failed_step, .. } => {
            format!("compensating after {failed_step}")
        }
        SagaEvent::StepCompensated { step, .. } => format!("<- {step} undone"),
        SagaEvent::CompensationFailed { step, error, .. } => {
            format!("!! undoing {step} failed: {error}")
        }
        SagaEvent::CompensationGaveUp { step, attempts, .. } => {
            format!("!! gave up undoing {step} after {attempts} attempts")
        }
        SagaEvent::SagaRetried => "retried by an operator".to_owned(),
        SagaEvent::SagaCompleted => "COMPLETED".to_owned(),
        SagaEvent::SagaCompensated => "COMPENSATED".to_owned(),
        SagaEvent::SagaFailed { reason } => format!("FAILED: {reason}"),
        other => other.event_type().to_owned(),
    };
    format!("[{saga_id}] {what}")
}

/// The `n`th demo order: every third card is declined (compensated after the reservation),
/// every fifth address is undeliverable (compensated after the charge), the rest ship.
pub fn demo_order(n: u32) -> PlaceOrder {
    let amount_cents = 1_000 + u64::from(n % 7) * 250;
    PlaceOrder {
        order_id: OrderId(format!("order-{n}")),
        sku: Sku(DEMO_SKU.to_owned()),
        quantity: 1 + n % 3,
        amount_cents,
        card_limit_cents: if n % 3 == 2 { 500 } else { 100_000 },
        address: if n % 5 == 4 {
            "1 Sunken Road, Atlantis".to_owned()
        } else {
            format!("{n} Main Street")
        },
        reserved: false,
        charged: false,
        shipped: false,
    }
}

/// The SKU every demo order buys.
pub const DEMO_SKU: &str = "mug";

/// How many units of [`DEMO_SKU`] the demo stocks once.
pub const DEMO_STOCK: u32 = 10_000;

/// How the order sagas in a store stand, and whether stock and money balance.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Audit {
    /// Sagas that shipped their order.
    pub completed: u32,
    /// Sagas that undid their order.
    pub compensated: u32,
    /// Sagas that ended failed.
    pub failed: u32,
    /// Sagas with no terminal event.
    pub unfinished: u32,
    /// Of the unfinished, those whose last record is a step or compensation in progress.
    pub mid_step: u32,
    /// Units of [`DEMO_SKU`] not held by any order.
    pub available: u32,
    /// Everything that does not add up, one line each.
    pub problems: Vec<String>,
}

/// Audits every order saga in `store` against the participants' state: a completed order is
/// reserved, charged and shipped; a compensated one holds no stock and no money; the stock
/// not held equals the initial stock minus what completed orders hold. Reads only.
pub async fn audit(store: &SharedStore) -> Result<Audit, Box<dyn std::error::Error + Send + Sync>> {
    let services = ShopServices::new(Arc::clone(store));
    let executor = aggregato::saga::SagaExecutor::<PlaceOrder, SharedStore>::new(
        Arc::clone(store),
        services.clone(),
    );
    let mut saga_ids = Vec::new();
    let mut after = 0;
    // The store skips every other event in its query.
    let starts = aggregato::EventFilter::all()
        .aggregate_types(["PlaceOrder"])
        .event_types(["SagaStarted"]);
    loop {
        let page = store.read_all_filtered(after, 1_000, &starts).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for envelope in &page {
            let id = envelope.stream_id.trim_start_matches("PlaceOrder-");
            saga_ids.push(id.to_owned());
        }
    }
    let inventory = services
        .inventory
        .load(&Sku(DEMO_SKU.to_owned()))
        .await?
        .into_state();
    let mut audit = Audit {
        available: inventory.available,
        ..Audit::default()
    };
    let mut held_by_completed = 0;
    for saga_id in saga_ids {
        let (log, events) = executor.history(&saga_id).await?;
        let order_id = OrderId(saga_id.clone());
        let payment = services.payments.load(&order_id).await?.into_state();
        let shipment = services.shipments.load(&order_id).await?.into_state();
        let reserved = inventory.reserved.get(&order_id).copied();
        let charged = payment.charged_cents > 0 && !payment.refunded;
        let data: PlaceOrder = serde_json::from_value(log.data.clone())?;
        match &log.phase {
            aggregato::saga::SagaPhase::Completed => {
                audit.completed += 1;
                held_by_completed += data.quantity;
                if shipment.shipped_to.is_none() || !charged || reserved != Some(data.quantity) {
                    audit.problems.push(format!(
                        "{saga_id} completed but is not shipped, charged and reserved"
                    ));
                }
            }
            aggregato::saga::SagaPhase::Compensated => {
                audit.compensated += 1;
                if shipment.shipped_to.is_some() || charged || reserved.is_some() {
                    audit.problems.push(format!(
                        "{saga_id} compensated but still holds stock or money"
                    ));
                }
            }
            aggregato::saga::SagaPhase::Failed { reason } => {
                audit.failed += 1;
                audit.problems.push(format!("{saga_id} failed: {reason}"));
            }
            _ => {
                audit.unfinished += 1;
                if matches!(
                    events.last(),
                    Some(SagaEvent::StepStarted { .. } | SagaEvent::CompensationStarted { .. })
                ) {
                    audit.mid_step += 1;
                }
                audit.problems.push(format!("{saga_id} is unfinished"));
            }
        }
    }
    if audit.available + held_by_completed != DEMO_STOCK {
        audit.problems.push(format!(
            "stock does not balance: {} available + {held_by_completed} held by shipped orders != {DEMO_STOCK}",
            audit.available
        ));
    }
    Ok(audit)
}
