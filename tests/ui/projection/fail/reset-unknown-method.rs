use aggregato::prelude::*;
use aggregato::projection::{BoxError, Context};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Deposited {
    pub amount: u64,
}

#[derive(Default, Projection)]
#[projection(events(Opened, Deposited), reset = clear_balances)]
pub struct Balances {
    total: u64,
}

impl Project<Opened> for Balances {
    async fn project(&mut self, _: Opened, _: &mut Context<'_, ()>) -> Result<(), BoxError> {
        Ok(())
    }
}

impl Project<Deposited> for Balances {
    async fn project(&mut self, _: Deposited, _: &mut Context<'_, ()>) -> Result<(), BoxError> {
        Ok(())
    }
}

impl Balances {
    async fn clear_balance(&mut self, _: &mut ()) -> Result<(), BoxError> {
        Ok(())
    }
}

fn main() {}
