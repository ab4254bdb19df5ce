//! The order service's aggregate: an order is placed, then confirmed once the inventory
//! reserved its stock, or cancelled when it could not.

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

use crate::shop::{OrderId, Sku};

/// Places an order. Idempotent: an order placed before stays as it is.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Order)]
pub struct PlaceOrder {
    /// The order (the instance it is executed on).
    pub order_id: OrderId,
    /// What is ordered.
    pub sku: Sku,
    /// How many.
    pub quantity: u32,
}

/// Confirms a placed order: its stock is reserved. A no-op on an order already settled.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Order)]
pub struct ConfirmOrder;

/// Cancels a placed order: the inventory refused it. A no-op on an order already settled.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Order)]
pub struct CancelOrder {
    /// Why.
    pub reason: String,
}

/// An order was placed: the event the inventory service consumes, published to the route
/// `orders.placed` (with NATS, the subject `<prefix>.orders.placed`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(route = "orders.placed")]
pub struct OrderPlaced {
    /// The order.
    pub order_id: OrderId,
    /// What is ordered.
    pub sku: Sku,
    /// How many.
    pub quantity: u32,
}

/// The order's stock is reserved: it goes ahead. Not routed: published to
/// `<prefix>.Order.OrderConfirmed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct OrderConfirmed;

/// The inventory could not reserve the order's stock: the order is cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct OrderCancelled {
    /// Why.
    pub reason: String,
}

/// Where an order stands.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderStatus {
    /// Not placed.
    #[default]
    New,
    /// Placed, waiting for the inventory.
    Placed,
    /// Stock reserved.
    Confirmed,
    /// Refused by the inventory.
    Cancelled {
        /// Why.
        reason: String,
    },
}

/// One order.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, Aggregate)]
#[aggregate(
    id = OrderId,
    events(OrderPlaced, OrderConfirmed, OrderCancelled),
    commands(PlaceOrder, ConfirmOrder, CancelOrder)
)]
pub struct Order {
    /// Where it stands.
    pub status: OrderStatus,
}

impl Order {
    /// Whether the inventory answered: confirmed or cancelled.
    pub fn is_settled(&self) -> bool {
        matches!(
            self.status,
            OrderStatus::Confirmed | OrderStatus::Cancelled { .. }
        )
    }
}

impl Handle<PlaceOrder> for Order {
    async fn handle(
        &self,
        command: PlaceOrder,
        _: &(),
    ) -> Result<Vec<OrderEvent>, std::convert::Infallible> {
        if self.status != OrderStatus::New {
            return Ok(Vec::new());
        }
        // The event carries the id, so the inventory need not parse it out of the stream id.
        Ok(vec![
            OrderPlaced {
                order_id: command.order_id,
                sku: command.sku,
                quantity: command.quantity,
            }
            .into(),
        ])
    }
}

impl Handle<ConfirmOrder> for Order {
    async fn handle(
        &self,
        _: ConfirmOrder,
        _: &(),
    ) -> Result<Vec<OrderEvent>, std::convert::Infallible> {
        Ok(match self.status {
            OrderStatus::Placed => vec![OrderConfirmed.into()],
            _ => Vec::new(),
        })
    }
}

impl Handle<CancelOrder> for Order {
    async fn handle(
        &self,
        command: CancelOrder,
        _: &(),
    ) -> Result<Vec<OrderEvent>, std::convert::Infallible> {
        Ok(match self.status {
            OrderStatus::Placed => vec![
                OrderCancelled {
                    reason: command.reason,
                }
                .into(),
            ],
            _ => Vec::new(),
        })
    }
}

impl Apply<OrderPlaced> for Order {
    fn apply(&mut self, _: &OrderPlaced) {
        self.status = OrderStatus::Placed;
    }
}

impl Apply<OrderConfirmed> for Order {
    fn apply(&mut self, _: &OrderConfirmed) {
        self.status = OrderStatus::Confirmed;
    }
}

impl Apply<OrderCancelled> for Order {
    fn apply(&mut self, event: &OrderCancelled) {
        self.status = OrderStatus::Cancelled {
            reason: event.reason.clone(),
        };
    }
}
