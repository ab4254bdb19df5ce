//! The same bank account with a hand-written `impl aggregato::Aggregate`: `handle` and `apply`
//! are a plain `match` over the command and event enums the derive generated for
//! [`super::ours::Account`], so only the dispatch differs.

use aggregato::Aggregate;

use super::domain::{BankError, Ledger};
use super::ours::{AccountCommand, AccountEvent};

/// A bank account whose dispatch is written by hand.
#[derive(Debug, Default)]
pub struct HandAccount {
    /// The state and its rules.
    pub ledger: Ledger,
}

impl Aggregate for HandAccount {
    const AGGREGATE_TYPE: &'static str = "HandAccount";
    type Id = String;
    type Event = AccountEvent;
    type Command = AccountCommand;
    type Error = BankError;
    type Services = ();

    async fn decide(
        &self,
        command: AccountCommand,
        _: &(),
    ) -> Result<Vec<AccountEvent>, BankError> {
        let event = match command {
            AccountCommand::OpenAccount(open) => self.ledger.open(open.account_id)?.into(),
            AccountCommand::DepositMoney(deposit) => self.ledger.deposit(deposit.amount)?.into(),
            AccountCommand::WithdrawMoney(withdraw) => {
                self.ledger.withdraw(withdraw.amount)?.into()
            }
        };
        Ok(vec![event])
    }

    fn evolve(&mut self, event: &AccountEvent) {
        match event {
            AccountEvent::AccountOpened(opened) => self.ledger.opened(opened),
            AccountEvent::MoneyDeposited(deposited) => self.ledger.deposited(deposited),
            AccountEvent::MoneyWithdrawn(withdrawn) => self.ledger.withdrawn(withdrawn),
        }
    }

    fn initial_state() -> Self {
        Self::default()
    }
}

/// Handles and applies `commands` in order directly on `state` (no store, no envelope), and
/// returns the state. Panics on a rejected command.
///
/// With `keep_events`, each command's event list passes through `std::hint::black_box`, as
/// it escapes in real use (a repository stores the events). Without it the optimizer may
/// remove the list's heap allocation altogether, which it manages for the flat hand-written
/// `match` but not through the derive's per-type handlers: the two then differ by a
/// `malloc`/`free` pair, not by dispatch.
pub async fn decide_and_evolve<A>(mut state: A, commands: Vec<A::Command>, keep_events: bool) -> A
where
    A: Aggregate<Services = ()>,
{
    for command in commands {
        let mut events = Aggregate::decide(&state, command, &())
            .await
            .unwrap_or_else(|error| panic!("{}: rejected: {error}", A::AGGREGATE_TYPE));
        if keep_events {
            events = std::hint::black_box(events);
        }
        for event in &events {
            Aggregate::evolve(&mut state, event);
        }
    }
    state
}
