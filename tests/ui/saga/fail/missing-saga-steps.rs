use aggregato::prelude::*;
use aggregato::saga::{StepKey, StepResult};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Saga)]
pub struct PlaceOrder {
    order_id: String,
}

impl PlaceOrder {
    #[allow(dead_code)]
    async fn reserve_stock(&mut self, _: &(), _: StepKey) -> StepResult {
        Ok(())
    }
}

fn main() {
    let _ = aggregato::saga::SagaExecutor::<PlaceOrder, _>::new(InMemoryEventStore::new(), ());
}
