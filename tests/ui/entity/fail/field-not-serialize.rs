use aggregato::prelude::*;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Sku(String);

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Product {
    #[entity(id)]
    id: String,
    sku: Sku,
}

fn main() {}
