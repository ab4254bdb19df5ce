//! `#[derive(Entity)]` and `#[derive(Command)]` with generic types in every key that takes a
//! type (`error`, `services`; `aggregate`, `entity`), written unquoted.
#![deny(warnings, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;

use aggregato::entity::{EntityError, EntityState};
use aggregato::prelude::*;

/// Prices by SKU.
pub trait Pricing {
    /// The price of `sku`, if it has one.
    fn price(&self, sku: &str) -> Option<u64>;
}

impl Pricing for HashMap<String, u64> {
    fn price(&self, sku: &str) -> Option<u64> {
        self.get(sku).copied()
    }
}

/// A generic error.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("no price for {0:?}")]
pub struct Unpriced<T: std::fmt::Debug>(pub T);

/// A product of the catalogue.
#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(
    error = Unpriced<Box<str>>,
    services = Arc<dyn Pricing + Send + Sync>,
    commands(Reprice, Check),
)]
pub struct Product {
    #[entity(id)]
    id: u64,
    sku: String,
    price_cents: u64,
}

/// Takes the price from the pricing service. Names the aggregate by its generic type.
#[derive(Debug, Clone, Command)]
#[command(aggregate = EntityState<Product>)]
pub struct Reprice;

/// Checks the product has a price. Names the aggregate by a path with a generic argument.
#[derive(Debug, Clone, Command)]
#[command(aggregate = aggregato::entity::EntityState<Product>)]
pub struct Check;

impl Handle<Reprice> for EntityState<Product> {
    async fn handle(
        &self,
        _: Reprice,
        pricing: &Arc<dyn Pricing + Send + Sync>,
    ) -> Result<Vec<ProductEvent>, EntityError<Unpriced<Box<str>>>> {
        let product = self.live()?;
        let price_cents = pricing
            .price(&product.sku)
            .ok_or_else(|| EntityError::Rejected(Unpriced(product.sku.clone().into())))?;
        Ok(vec![
            ProductUpdated {
                sku: None,
                price_cents: Some(price_cents),
            }
            .into(),
        ])
    }
}

impl Handle<Check> for EntityState<Product> {
    async fn handle(
        &self,
        _: Check,
        _: &Arc<dyn Pricing + Send + Sync>,
    ) -> Result<Vec<ProductEvent>, EntityError<Unpriced<Box<str>>>> {
        self.live()?;
        Ok(Vec::new())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let prices: HashMap<String, u64> = [("MUG-1".to_owned(), 900)].into();
    let pricing: Arc<dyn Pricing + Send + Sync> = Arc::new(prices);
    let repository =
        Repository::<EntityState<Product>, _>::new_with_services(InMemoryEventStore::new(), pricing);
    let created = repository
        .execute(
            &1,
            CreateProduct {
                id: 1,
                sku: "MUG-1".to_owned(),
                price_cents: 0,
            },
        )
        .await;
    assert!(created.is_ok());
    let repriced = repository.execute(&1, Reprice).await;
    assert_eq!(repriced.map(|events| events.len()).ok(), Some(1));
    assert!(repository.execute(&1, Check).await.is_ok());
    let loaded = repository.load(&1).await;
    assert_eq!(
        loaded
            .ok()
            .and_then(|root| root.state().get().map(|p| p.price_cents)),
        Some(900)
    );
}
