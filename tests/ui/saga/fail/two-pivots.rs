use aggregato::prelude::*;
use aggregato::saga::{StepKey, StepResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Saga)]
pub struct PlaceOrder {
    order_id: String,
}

#[saga_steps]
impl PlaceOrder {
    #[step(pivot)]
    async fn charge_card(&mut self, _: &(), _: StepKey) -> StepResult {
        Ok(())
    }

    #[step(pivot)]
    async fn ship(&mut self, _: &(), _: StepKey) -> StepResult {
        Ok(())
    }
}

fn main() {}
