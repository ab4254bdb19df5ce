use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Opened {
    pub owner: String,
}

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Open {
    pub owner: String,
}

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(Open), commands(Opened))]
pub struct Account {
    open: bool,
}

impl Handle<Open> for Account {
    async fn handle(&self, command: Open, _: &()) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        Ok(vec![Opened { owner: command.owner }.into()])
    }
}

impl Apply<Opened> for Account {
    fn apply(&mut self, _: &Opened) {
        self.open = true;
    }
}

fn main() {}
