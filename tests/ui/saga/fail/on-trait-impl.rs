use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Saga)]
pub struct PlaceOrder {
    order_id: String,
}

#[saga_steps]
impl Default for PlaceOrder {
    #[step(no_compensation)]
    fn default() -> Self {
        Self {
            order_id: String::new(),
        }
    }
}

fn main() {}
