use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "Deposited", version = 1)]
pub struct DepositedV1 {
    pub amount: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "Deposited", version = 2, upcast_from = DepositedV1)]
pub struct Deposited {
    pub amount: u64,
    pub note: String,
}

fn main() {}
