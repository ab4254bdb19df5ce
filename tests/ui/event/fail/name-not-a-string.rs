use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = Deposited)]
pub struct Deposited {
    pub amount: u64,
}

fn main() {}
