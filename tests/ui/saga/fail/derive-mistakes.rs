use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Saga)]
#[saga(name = "")]
pub struct PlaceOrder<T> {
    order_id: T,
}

fn main() {}
