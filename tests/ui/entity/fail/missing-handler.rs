use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Command)]
#[command(entity = Product)]
pub struct DiscontinueProduct;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
pub struct ProductDiscontinued;

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(events(ProductDiscontinued), commands(DiscontinueProduct))]
pub struct Product {
    #[entity(id)]
    id: String,
    name: String,
}

impl Apply<ProductDiscontinued> for EntityState<Product> {
    fn apply(&mut self, _: &ProductDiscontinued) {}
}

fn main() {}
