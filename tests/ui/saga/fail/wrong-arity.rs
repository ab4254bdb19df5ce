use aggregato::prelude::*;
use aggregato::saga::{StepKey, StepResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Saga)]
pub struct PlaceOrder {
    order_id: String,
}

#[saga_steps]
impl PlaceOrder {
    #[step(no_compensation)]
    async fn reserve_stock(&mut self) -> StepResult {
        Ok(())
    }

    #[step(no_compensation)]
    async fn charge_card(&mut self, _: &(), _: StepKey, amount: u64) -> StepResult {
        let _ = amount;
        Ok(())
    }
}

fn main() {}
