use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Sku(String);

#[derive(Clone, PartialEq, Entity)]
pub struct Product {
    #[entity(id)]
    id: String,
    sku: Sku,
}

fn main() {}
