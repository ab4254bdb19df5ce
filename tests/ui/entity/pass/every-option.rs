//! `#[derive(Entity)]` with every option, under `deny(warnings, missing_docs)` and a renamed
//! runtime crate: the generated items are documented and warning-free.
#![deny(warnings, missing_docs)]

extern crate aggregato as renamed;

use renamed::entity::{EntityError, EntityState};
use renamed::{Aggregate, Apply, Handle};
use serde::{Deserialize, Serialize};

/// Why the catalogue refuses a change.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum CatalogueError {
    /// A blank name.
    #[error("blank name")]
    Blank,
    /// Already discontinued.
    #[error("already discontinued")]
    Discontinued,
}

/// What the handlers of added commands receive.
#[derive(Debug, Default)]
pub struct Pricing;

fn not_blank(name: &str) -> Result<(), CatalogueError> {
    if name.trim().is_empty() {
        Err(CatalogueError::Blank)
    } else {
        Ok(())
    }
}

fn consistent(_: &Product) -> Result<(), CatalogueError> {
    Ok(())
}

/// Stops selling a product.
#[derive(Debug, Clone, renamed::Command)]
#[command(entity = Product, crate = renamed)]
pub struct DiscontinueProduct;

/// A product was discontinued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, renamed::DomainEvent)]
#[event(crate = renamed)]
pub struct ProductDiscontinued;

/// A product of the catalogue.
#[derive(Debug, Clone, PartialEq, renamed::Entity)]
#[entity(
    name = "Catalog.Product",
    version = 3,
    error = CatalogueError,
    services = Pricing,
    validate = consistent,
    events(ProductDiscontinued),
    commands(DiscontinueProduct),
    crate = renamed,
)]
pub struct Product {
    #[entity(id)]
    id: u64,
    #[entity(validate = not_blank)]
    name: String,
    #[entity(readonly)]
    sku: String,
    #[entity(skip)]
    discontinued: bool,
}

impl Handle<DiscontinueProduct> for EntityState<Product> {
    async fn handle(
        &self,
        _: DiscontinueProduct,
        _: &Pricing,
    ) -> Result<Vec<ProductEvent>, EntityError<CatalogueError>> {
        if self.live()?.discontinued {
            return Err(EntityError::Rejected(CatalogueError::Discontinued));
        }
        Ok(vec![ProductDiscontinued.into()])
    }
}

impl Apply<ProductDiscontinued> for EntityState<Product> {
    fn apply(&mut self, _: &ProductDiscontinued) {
        if let Some(product) = self.get_mut() {
            product.discontinued = true;
        }
    }
}

/// An entity whose only field is its identity: the patch is empty.
#[derive(Debug, Clone, PartialEq, renamed::Entity)]
#[entity(crate = renamed)]
pub struct Tag {
    #[entity(id)]
    id: String,
}

fn main() {
    let mut state = EntityState::<Product>::default();
    let created = ProductCreated {
        id: 7,
        name: "Mug".to_owned(),
        sku: "MUG-1".to_owned(),
    };
    Aggregate::evolve(&mut state, &created.into());
    Aggregate::evolve(&mut state, &ProductDiscontinued.into());
    assert!(state.get().is_some_and(|product| product.discontinued));
    assert_eq!(<EntityState<Tag> as Aggregate>::AGGREGATE_TYPE, "Tag");
    let _ = UpdateTag {};
}
