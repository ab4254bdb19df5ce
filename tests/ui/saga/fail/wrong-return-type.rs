use aggregato::prelude::*;
use aggregato::saga::StepKey;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Saga)]
pub struct PlaceOrder {
    order_id: String,
}

#[saga_steps]
impl PlaceOrder {
    #[step(no_compensation)]
    async fn reserve_stock(&mut self, _: &(), _: StepKey) {}

    #[step(no_compensation)]
    async fn charge_card(&mut self, _: &(), _: StepKey) -> Result<u64, String> {
        Ok(5)
    }
}

fn main() {}
