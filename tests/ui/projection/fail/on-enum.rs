use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Deposited {
    pub amount: u64,
}

#[derive(Projection)]
#[projection(events(Opened, Deposited))]
pub enum Balances {
    Empty,
}

fn main() {}
