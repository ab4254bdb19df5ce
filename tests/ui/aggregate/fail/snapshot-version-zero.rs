use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Deposited {
    pub amount: u64,
}

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Open;

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Deposit {
    pub amount: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, snapshot_version = 0, events(Opened, Deposited), commands(Open, Deposit))]
pub struct Account {
    balance: u64,
}

impl Handle<Open> for Account {
    async fn handle(&self, _: Open, _: &()) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        Ok(vec![Opened.into()])
    }
}

impl Handle<Deposit> for Account {
    async fn handle(
        &self,
        cmd: Deposit,
        _: &(),
    ) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        Ok(vec![Deposited { amount: cmd.amount }.into()])
    }
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
