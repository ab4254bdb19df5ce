use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(name = "Deposited")]
pub struct DepositedV1 {
    pub cents: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
#[event(version = 2, upcast_from = DepositedV1)]
pub struct Deposited {
    pub cents: u64,
}

impl From<DepositedV1> for Deposited {
    fn from(old: DepositedV1) -> Self {
        Self { cents: old.cents.into() }
    }
}

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Deposit {
    pub cents: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(DepositedV1, Deposited), commands(Deposit))]
pub struct Account {
    balance: u64,
}

impl Handle<Deposit> for Account {
    async fn handle(&self, command: Deposit, _: &()) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        Ok(vec![Deposited { cents: command.cents }.into()])
    }
}

impl Apply<DepositedV1> for Account {
    fn apply(&mut self, event: &DepositedV1) {
        self.balance += u64::from(event.cents);
    }
}

impl Apply<Deposited> for Account {
    fn apply(&mut self, event: &Deposited) {
        self.balance += event.cents;
    }
}

fn main() {}
