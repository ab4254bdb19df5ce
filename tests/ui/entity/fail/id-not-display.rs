use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductId(u64);

#[derive(Debug, Clone, PartialEq, Entity)]
pub struct Product {
    #[entity(id)]
    id: ProductId,
    name: String,
}

fn main() {}
