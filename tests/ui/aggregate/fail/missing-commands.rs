use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Deposited {
    pub amount: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(Opened, Deposited))]
pub struct Account {
    balance: u64,
}

impl Apply<Opened> for Account {
    fn apply(&mut self, _: &Opened) {}
}

impl Apply<Deposited> for Account {
    fn apply(&mut self, event: &Deposited) {
        self.balance += event.amount;
    }
}

fn main() {}
