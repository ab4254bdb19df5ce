use aggregato::prelude::*;
use aggregato::saga::{StepKey, StepResult};

#[derive(Debug, Saga)]
pub struct PlaceOrder {
    order_id: String,
}

#[saga_steps]
impl PlaceOrder {
    #[step(no_compensation)]
    async fn reserve_stock(&mut self, _: &(), _: StepKey) -> StepResult {
        Ok(())
    }
}

fn main() {}
