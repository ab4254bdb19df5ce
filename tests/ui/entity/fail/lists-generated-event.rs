use aggregato::prelude::*;

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(events(ProductCreated))]
pub struct Product {
    #[entity(id)]
    id: String,
    name: String,
}

fn main() {}
