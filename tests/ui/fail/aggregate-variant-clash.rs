use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

mod v1 {
    use super::*;

    #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
    #[event(name = "OpenedV1")]
    pub struct Opened;
}

mod v2 {
    use super::*;

    #[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
    pub struct Opened;
}

#[derive(Debug, Clone)]
pub struct Open;

#[derive(Debug, Clone)]
pub struct Deposit {
    pub amount: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(v1::Opened, v2::Opened), commands(Open, Deposit))]
pub struct Account {
    balance: u64,
}

fn main() {}
