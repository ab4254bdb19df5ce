use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "FundsAdded", aliases(Credited))]
pub struct FundsAdded {
    pub cents: u64,
}

fn main() {}
