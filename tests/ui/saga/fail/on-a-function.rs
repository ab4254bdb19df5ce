use aggregato::prelude::*;
use aggregato::saga::{StepKey, StepResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Saga)]
pub struct PlaceOrder {
    order_id: String,
}

#[saga_steps]
async fn reserve_stock(_: &mut PlaceOrder, _: &(), _: StepKey) -> StepResult {
    Ok(())
}

fn main() {}
