//! An aggregate whose state before the first event comes from a function, not `Default`.
#![deny(warnings, missing_docs)]

use aggregato::prelude::*;
use serde::{Deserialize, Serialize};

/// Money came in.
#[derive(Debug, Clone, Serialize, Deserialize, DomainEvent)]
pub struct Deposited {
    /// How much.
    pub amount: u64,
}

/// Asks for a deposit.
#[derive(Debug, Clone, Command)]
#[command(aggregate = Account)]
pub struct Deposit {
    /// How much.
    pub amount: u64,
}

/// An account that starts with a welcome bonus; it has no `Default`.
#[derive(Debug, Aggregate)]
#[aggregate(id = String, initial = Account::with_bonus, events(Deposited), commands(Deposit))]
pub struct Account {
    balance: u64,
}

impl Account {
    fn with_bonus() -> Self {
        Self { balance: 5 }
    }
}

impl Handle<Deposit> for Account {
    async fn handle(&self, command: Deposit, _: &()) -> Result<Vec<AccountEvent>, std::convert::Infallible> {
        Ok(vec![Deposited { amount: command.amount }.into()])
    }
}

impl Apply<Deposited> for Account {
    fn apply(&mut self, event: &Deposited) {
        self.balance += event.amount;
    }
}

fn main() {
    let mut account = Account::initial_state();
    assert_eq!(account.balance, 5, "the state before the first event is the function's");
    account.evolve(&Deposited { amount: 2 }.into());
    assert_eq!(account.balance, 7);
}
