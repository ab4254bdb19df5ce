//! The inventory service's aggregate: the stock of one SKU, which reserves units for an order
//! or refuses it. Both answers are events, so that the decision is recorded once and goes back
//! to the order service.

use std::collections::{BTreeMap, BTreeSet};

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

use crate::shop::OrderId;

/// Adds units.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Stock)]
pub struct Restock {
    /// Units added.
    pub quantity: u32,
}

/// Reserves units for an order, or refuses when too few are left. Idempotent per order: an
/// order reserved or refused before gets no second answer.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Stock)]
pub struct Reserve {
    /// The order.
    pub order_id: OrderId,
    /// Units asked for.
    pub quantity: u32,
}

/// Units were added. Not routed: published to `<prefix>.Stock.StockAdded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct StockAdded {
    /// Units added.
    pub quantity: u32,
}

/// Units were reserved for an order: published to the route `stock.reserved`, which the
/// order service consumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(route = "stock.reserved")]
pub struct StockReserved {
    /// The order.
    pub order_id: OrderId,
    /// Units held.
    pub quantity: u32,
    /// Units left unreserved.
    pub available: u32,
}

/// An order asked for more than is left: published to the route `stock.refused`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(route = "stock.refused")]
pub struct ReservationRefused {
    /// The order.
    pub order_id: OrderId,
    /// Units asked for.
    pub requested: u32,
    /// Units left.
    pub available: u32,
}

/// The stock of one SKU.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, Aggregate)]
#[aggregate(
    id = crate::shop::Sku,
    events(StockAdded, StockReserved, ReservationRefused),
    commands(Restock, Reserve)
)]
pub struct Stock {
    /// Units not reserved.
    pub available: u32,
    /// Units reserved, per order.
    pub reserved: BTreeMap<OrderId, u32>,
    /// Orders refused.
    pub refused: BTreeSet<OrderId>,
}

impl Handle<Restock> for Stock {
    async fn handle(
        &self,
        command: Restock,
        _: &(),
    ) -> Result<Vec<StockEvent>, std::convert::Infallible> {
        Ok(vec![
            StockAdded {
                quantity: command.quantity,
            }
            .into(),
        ])
    }
}

impl Handle<Reserve> for Stock {
    async fn handle(
        &self,
        command: Reserve,
        _: &(),
    ) -> Result<Vec<StockEvent>, std::convert::Infallible> {
        let Reserve { order_id, quantity } = command;
        if self.reserved.contains_key(&order_id) || self.refused.contains(&order_id) {
            return Ok(Vec::new());
        }
        Ok(vec![if quantity <= self.available {
            StockReserved {
                order_id,
                quantity,
                available: self.available - quantity,
            }
            .into()
        } else {
            ReservationRefused {
                order_id,
                requested: quantity,
                available: self.available,
            }
            .into()
        }])
    }
}

impl Apply<StockAdded> for Stock {
    fn apply(&mut self, event: &StockAdded) {
        self.available += event.quantity;
    }
}

impl Apply<StockReserved> for Stock {
    fn apply(&mut self, event: &StockReserved) {
        self.available = event.available;
        self.reserved.insert(event.order_id.clone(), event.quantity);
    }
}

impl Apply<ReservationRefused> for Stock {
    fn apply(&mut self, event: &ReservationRefused) {
        self.refused.insert(event.order_id.clone());
    }
}
