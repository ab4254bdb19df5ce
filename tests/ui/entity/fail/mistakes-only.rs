//! Mistakes in `#[entity(...)]` are reported alone: the code that uses the generated events,
//! commands and enums still type-checks against the stand-ins.
use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, thiserror::Error)]
#[error("already discontinued")]
pub struct Discontinued;

#[derive(Debug, Clone, Command)]
#[command(entity = Product)]
pub struct DiscontinueProduct;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct ProductDiscontinued;

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(error = Discontinued, events(ProductDiscontinued), commands(DiscontinueProduct))]
pub struct Product {
    #[entity(id, readonly)]
    id: String,
    name: String,
    #[entity(readnoly)]
    sku: String,
}

impl Handle<DiscontinueProduct> for EntityState<Product> {
    async fn handle(
        &self,
        _: DiscontinueProduct,
        _: &(),
    ) -> Result<Vec<ProductEvent>, EntityError<Discontinued>> {
        self.live()?;
        Ok(vec![ProductDiscontinued.into()])
    }
}

impl Apply<ProductDiscontinued> for EntityState<Product> {
    fn apply(&mut self, _: &ProductDiscontinued) {}
}

pub fn commands() -> Vec<ProductCommand> {
    vec![
        CreateProduct {
            id: "p1".to_owned(),
            name: "Mug".to_owned(),
            sku: "MUG-1".to_owned(),
        }
        .into(),
        UpdateProduct {
            name: Some("Cup".to_owned()),
            ..UpdateProduct::default()
        }
        .into(),
        DeleteProduct.into(),
    ]
}

pub fn created() -> ProductEvent {
    ProductCreated {
        id: "p1".to_owned(),
        name: "Mug".to_owned(),
        sku: "MUG-1".to_owned(),
    }
    .into()
}

fn main() {}
