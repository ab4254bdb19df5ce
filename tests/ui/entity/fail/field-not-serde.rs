use aggregato::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Sku(String);

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Product {
    #[entity(id)]
    id: String,
    sku: Sku,
}

fn main() {}
