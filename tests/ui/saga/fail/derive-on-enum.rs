use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Saga)]
pub enum PlaceOrder {
    Started { order_id: String },
}

fn main() {}
