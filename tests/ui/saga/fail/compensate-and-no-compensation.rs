use aggregato::prelude::*;
use aggregato::saga::{StepKey, StepResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Saga)]
pub struct PlaceOrder {
    order_id: String,
}

#[saga_steps]
impl PlaceOrder {
    #[step(compensate = release_stock, no_compensation)]
    async fn reserve_stock(&mut self, _: &(), _: StepKey) -> StepResult {
        Ok(())
    }

    async fn release_stock(&mut self, _: &(), _: StepKey) -> StepResult {
        Ok(())
    }
}

fn main() {}
