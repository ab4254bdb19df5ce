use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Sku(String);

#[derive(Debug, PartialEq, Entity)]
pub struct Product {
    #[entity(id)]
    id: String,
    sku: Sku,
}

fn main() {}
