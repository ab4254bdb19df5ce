use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, DomainEvent)]
pub struct Deposited {
    pub amount: u64,
}

fn main() {}
