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

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Open;

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Deposit {
    pub amount: u64,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(v1::Opened, v2::Opened), commands(Open, Deposit))]
pub struct Account {
    balance: u64,
}

impl Handle<Open> for Account {
    async fn handle(&self, _: Open, _: &()) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        Ok(vec![v2::Opened.into()])
    }
}

impl Handle<Deposit> for Account {
    async fn handle(
        &self,
        cmd: Deposit,
        _: &(),
    ) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        let _ = cmd.amount;
        Ok(vec![v1::Opened.into()])
    }
}

impl Apply<v1::Opened> for Account {
    fn apply(&mut self, _: &v1::Opened) {}
}

impl Apply<v2::Opened> for Account {
    fn apply(&mut self, _: &v2::Opened) {
        self.balance = 0;
    }
}

fn main() {}
