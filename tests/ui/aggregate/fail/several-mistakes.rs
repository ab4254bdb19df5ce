use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Deposited {
    pub amount: u64,
}

#[derive(Debug, Clone)]
pub struct Open;

#[derive(Debug, Clone)]
pub struct Deposit {
    pub amount: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(name = "", events(Opened, Deposited, Opened), commands())]
pub struct Account<T> {
    balance: T,
}

fn main() {}
