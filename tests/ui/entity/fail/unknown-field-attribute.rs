use aggregato::prelude::*;

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Product {
    #[entity(id)]
    id: String,
    #[entity(readnoly)]
    sku: String,
}

fn main() {}
