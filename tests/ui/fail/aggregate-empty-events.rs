use aggregato::prelude::*;

#[derive(Debug, Clone)]
pub struct Open;

#[derive(Debug, Clone)]
pub struct Deposit {
    pub amount: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(), commands(Open, Deposit))]
pub struct Account {
    balance: u64,
}

fn main() {}
