use std::sync::Arc;

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

pub trait Clock {}

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Open;

#[derive(Debug, Default, Aggregate)]
#[aggregate(id = String, events(Opened), commands(Open), services = Arc<dyn Clock)]
pub struct Account;

impl Handle<Open> for Account {
    async fn handle(
        &self,
        _: Open,
        _: &Arc<dyn Clock>,
    ) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        Ok(vec![Opened.into()])
    }
}

impl Apply<Opened> for Account {
    fn apply(&mut self, _: &Opened) {}
}

fn main() {}
