use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dimensions {
    pub width_mm: u32,
    pub height_mm: u32,
}

#[derive(Debug, Clone, Entity)]
pub struct Product {
    #[entity(id)]
    id: String,
    dimensions: Dimensions,
}

fn main() {}
