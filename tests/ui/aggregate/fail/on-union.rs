use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Open;

#[derive(Aggregate)]
#[aggregate(id = String, events(Opened), commands(Open))]
pub union Account {
    balance: u64,
    flags: u32,
}

impl Default for Account {
    fn default() -> Self {
        Account { balance: 0 }
    }
}

impl Handle<Open> for Account {
    async fn handle(&self, _: Open, _: &()) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        Ok(vec![Opened.into()])
    }
}

impl Apply<Opened> for Account {
    fn apply(&mut self, _: &Opened) {
        self.flags = 1;
    }
}

fn main() {}
