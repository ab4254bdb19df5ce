use std::rc::Rc;

use aggregato::prelude::*;
use aggregato::saga::{StepKey, StepResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Saga)]
pub struct PlaceOrder {
    order_id: String,
}

async fn remote_call() {}

#[saga_steps]
impl PlaceOrder {
    #[step(no_compensation)]
    async fn reserve_stock(&mut self, _: &(), _: StepKey) -> StepResult {
        let local = Rc::new(1);
        remote_call().await;
        drop(local);
        Ok(())
    }
}

fn main() {}
