use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "Deposited", version = 3)]
pub struct DepositedV1 {
    pub amount: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "Deposited", version = 2, upcast_from = DepositedV1)]
pub struct Deposited {
    pub amount: u64,
    pub note: String,
}

impl From<DepositedV1> for Deposited {
    fn from(old: DepositedV1) -> Self {
        Self { amount: old.amount, note: String::new() }
    }
}

fn main() {}
