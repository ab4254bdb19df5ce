use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DepositedV1 {
    pub amount: u32,
}

impl From<DepositedV1> for Deposited {
    fn from(old: DepositedV1) -> Self {
        Self { amount: old.amount.into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(version = 2, upcast_from = DepositedV1)]
pub struct Deposited {
    pub amount: u64,
}

fn main() {}
