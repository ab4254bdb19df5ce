use aggregato::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sku(String);

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Product {
    #[entity(id)]
    id: String,
    sku: Sku,
}

fn main() {}
