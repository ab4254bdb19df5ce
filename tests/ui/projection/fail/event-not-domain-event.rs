use aggregato::prelude::*;
use aggregato::projection::{BoxError, Context};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Deposited {
    pub amount: u64,
}

#[derive(Debug, Clone)]
pub struct Closed;

#[derive(Default, Projection)]
#[projection(events(Opened, Closed))]
pub struct Balances {
    total: u64,
}

impl Project<Opened> for Balances {
    async fn project(&mut self, _: Opened, _: &mut Context<'_, ()>) -> Result<(), BoxError> {
        Ok(())
    }
}

impl Project<Closed> for Balances {
    async fn project(&mut self, _: Closed, _: &mut Context<'_, ()>) -> Result<(), BoxError> {
        Ok(())
    }
}

fn main() {}
