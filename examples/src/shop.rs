//! The seed's e-commerce order participants: an inventory that reserves stock, a payment
//! per order, a shipment per order. Each is an aggregate in the same store; the order saga
//! (`crate::order_saga`) drives them.
//!
//! Every command that a saga step sends is idempotent per order: reserving stock twice for
//! one order, charging an order twice or refunding it twice changes nothing the second
//! time. That is what lets a recovered saga run a step again after a crash.

use std::collections::BTreeMap;
use std::fmt;

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

/// Identifies an order (and its saga, payment and shipment).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrderId(pub String);

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identifies a stock-keeping unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sku(pub String);

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a participant refused a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShopError {
    /// Not enough unreserved stock.
    #[error("only {available} in stock, {requested} requested")]
    OutOfStock {
        /// Unreserved units.
        available: u32,
        /// Units asked for.
        requested: u32,
    },
    /// The card was declined.
    #[error("card declined for {amount_cents} cents")]
    CardDeclined {
        /// The amount.
        amount_cents: u64,
    },
    /// The carrier does not deliver there.
    #[error("cannot deliver to {address}")]
    Undeliverable {
        /// The address.
        address: String,
    },
}

// ---- inventory ----

/// Adds units to the stock.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Inventory)]
pub struct Restock {
    /// Units added.
    pub quantity: u32,
}

/// Holds units for an order. Idempotent per order.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Inventory)]
pub struct ReserveStock {
    /// The order.
    pub order_id: OrderId,
    /// Units held.
    pub quantity: u32,
}

/// Gives an order's held units back. Idempotent; a no-op for an order holding none.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Inventory)]
pub struct ReleaseStock {
    /// The order.
    pub order_id: OrderId,
}

/// Units were added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct StockAdded {
    /// Units added.
    pub quantity: u32,
}

/// Units were held for an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct StockReserved {
    /// The order.
    pub order_id: OrderId,
    /// Units held.
    pub quantity: u32,
}

/// An order's held units were given back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct StockReleased {
    /// The order.
    pub order_id: OrderId,
    /// Units given back.
    pub quantity: u32,
}

/// The stock of one SKU.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, Aggregate)]
#[aggregate(
    id = Sku,
    error = ShopError,
    events(StockAdded, StockReserved, StockReleased),
    commands(Restock, ReserveStock, ReleaseStock)
)]
pub struct Inventory {
    /// Units not held for any order.
    pub available: u32,
    /// Units held per order.
    pub reserved: BTreeMap<OrderId, u32>,
}

impl Handle<Restock> for Inventory {
    async fn handle(&self, command: Restock, _: &()) -> Result<Vec<InventoryEvent>, ShopError> {
        Ok(vec![
            StockAdded {
                quantity: command.quantity,
            }
            .into(),
        ])
    }
}

impl Handle<ReserveStock> for Inventory {
    async fn handle(
        &self,
        command: ReserveStock,
        _: &(),
    ) -> Result<Vec<InventoryEvent>, ShopError> {
        if self.reserved.contains_key(&command.order_id) {
            return Ok(Vec::new());
        }
        if command.quantity > self.available {
            return Err(ShopError::OutOfStock {
                available: self.available,
                requested: command.quantity,
            });
        }
        Ok(vec![
            StockReserved {
                order_id: command.order_id,
                quantity: command.quantity,
            }
            .into(),
        ])
    }
}

impl Handle<ReleaseStock> for Inventory {
    async fn handle(
        &self,
        command: ReleaseStock,
        _: &(),
    ) -> Result<Vec<InventoryEvent>, ShopError> {
        Ok(match self.reserved.get(&command.order_id) {
            None => Vec::new(),
            Some(&quantity) => vec![
                StockReleased {
                    order_id: command.order_id,
                    quantity,
                }
                .into(),
            ],
        })
    }
}

impl Apply<StockAdded> for Inventory {
    fn apply(&mut self, event: &StockAdded) {
        self.available += event.quantity;
    }
}

impl Apply<StockReserved> for Inventory {
    fn apply(&mut self, event: &StockReserved) {
        self.available -= event.quantity;
        self.reserved.insert(event.order_id.clone(), event.quantity);
    }
}

impl Apply<StockReleased> for Inventory {
    fn apply(&mut self, event: &StockReleased) {
        self.available += event.quantity;
        self.reserved.remove(&event.order_id);
    }
}

// ---- payment ----

/// Charges an order. Idempotent.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Payment)]
pub struct ChargePayment {
    /// The amount.
    pub amount_cents: u64,
    /// The customer's card limit: a larger charge is declined.
    pub card_limit_cents: u64,
}

/// Refunds an order's charge. Idempotent; a no-op for an order never charged.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Payment)]
pub struct RefundPayment;

/// An order was charged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct PaymentCharged {
    /// The amount.
    pub amount_cents: u64,
}

/// An order's charge was refunded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct PaymentRefunded {
    /// The amount.
    pub amount_cents: u64,
}

/// The payment of one order.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, Aggregate)]
#[aggregate(
    id = OrderId,
    error = ShopError,
    events(PaymentCharged, PaymentRefunded),
    commands(ChargePayment, RefundPayment)
)]
pub struct Payment {
    /// What was charged (0: nothing).
    pub charged_cents: u64,
    /// Whether the charge was refunded.
    pub refunded: bool,
}

impl Handle<ChargePayment> for Payment {
    async fn handle(&self, command: ChargePayment, _: &()) -> Result<Vec<PaymentEvent>, ShopError> {
        if self.charged_cents > 0 {
            return Ok(Vec::new());
        }
        if command.amount_cents > command.card_limit_cents {
            return Err(ShopError::CardDeclined {
                amount_cents: command.amount_cents,
            });
        }
        Ok(vec![
            PaymentCharged {
                amount_cents: command.amount_cents,
            }
            .into(),
        ])
    }
}

impl Handle<RefundPayment> for Payment {
    async fn handle(&self, _: RefundPayment, _: &()) -> Result<Vec<PaymentEvent>, ShopError> {
        if self.charged_cents == 0 || self.refunded {
            return Ok(Vec::new());
        }
        Ok(vec![
            PaymentRefunded {
                amount_cents: self.charged_cents,
            }
            .into(),
        ])
    }
}

impl Apply<PaymentCharged> for Payment {
    fn apply(&mut self, event: &PaymentCharged) {
        self.charged_cents = event.amount_cents;
    }
}

impl Apply<PaymentRefunded> for Payment {
    fn apply(&mut self, _: &PaymentRefunded) {
        self.refunded = true;
    }
}

// ---- shipment ----

/// Ships an order. Idempotent.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Shipment)]
pub struct ShipOrder {
    /// Where to.
    pub address: String,
}

/// An order was handed to the carrier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct OrderShipped {
    /// Where to.
    pub address: String,
}

/// The shipment of one order.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, Aggregate)]
#[aggregate(
    id = OrderId,
    error = ShopError,
    events(OrderShipped),
    commands(ShipOrder)
)]
pub struct Shipment {
    /// Where it went, once shipped.
    pub shipped_to: Option<String>,
}

impl Handle<ShipOrder> for Shipment {
    async fn handle(&self, command: ShipOrder, _: &()) -> Result<Vec<ShipmentEvent>, ShopError> {
        if self.shipped_to.is_some() {
            return Ok(Vec::new());
        }
        if command.address.trim().is_empty() || command.address.contains("Atlantis") {
            return Err(ShopError::Undeliverable {
                address: command.address,
            });
        }
        Ok(vec![
            OrderShipped {
                address: command.address,
            }
            .into(),
        ])
    }
}

impl Apply<OrderShipped> for Shipment {
    fn apply(&mut self, event: &OrderShipped) {
        self.shipped_to = Some(event.address.clone());
    }
}
