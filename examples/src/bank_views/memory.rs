//! The bank views in memory: [`InMemoryBankViews`], for tests and as the reference the SQL
//! and Redis views are checked against.

use std::collections::BTreeMap;

use aggregato::prelude::*;
use aggregato::projection::{BoxError, Context};
use time::Date;

use super::{AccountBalance, BankViewEvent, Change, ChangeKind, DayTotals};
use crate::bank::{AccountClosed, AccountOpened, BankAccount, MoneyDeposited, MoneyWithdrawn};

/// Balances and per-day totals in maps. Its transaction is `()`: run it with
/// `InMemoryCheckpoints` (it is rebuilt from the log on every start), or hand it events with
/// `ProjectionFixture`.
#[derive(Debug, Default, Projection)]
#[projection(
    events(AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed),
    aggregates(BankAccount),
    name = "bank_views",
    reset = clear,
)]
pub struct InMemoryBankViews {
    balances: BTreeMap<String, AccountBalance>,
    days: BTreeMap<Date, DayTotals>,
}

impl InMemoryBankViews {
    /// The account `account`, if the views know it.
    pub fn balance(&self, account: &str) -> Option<&AccountBalance> {
        self.balances.get(account)
    }

    /// Every account, by id.
    pub fn balances(&self) -> impl Iterator<Item = &AccountBalance> {
        self.balances.values()
    }

    /// The totals of `day`, if money moved that day.
    pub fn day_totals(&self, day: Date) -> Option<&DayTotals> {
        self.days.get(&day)
    }

    /// Every day's totals, oldest first.
    pub fn days(&self) -> impl Iterator<Item = &DayTotals> {
        self.days.values()
    }

    /// Applies `change`, as the SQL views' statements do.
    pub fn apply(&mut self, change: Change) {
        let account = change.account;
        match change.kind {
            ChangeKind::Opened { owner } => {
                self.balances.insert(
                    account.clone(),
                    AccountBalance {
                        account,
                        owner,
                        balance: 0,
                        open: true,
                    },
                );
            }
            ChangeKind::Moved {
                balance,
                day,
                deposited,
                withdrawn,
            } => {
                if let Some(row) = self.balances.get_mut(&account) {
                    row.balance = balance;
                }
                self.days
                    .entry(day)
                    .or_insert_with(|| DayTotals::new(day))
                    .add(deposited, withdrawn);
            }
            ChangeKind::Closed => {
                if let Some(row) = self.balances.get_mut(&account) {
                    row.open = false;
                }
            }
        }
    }

    async fn clear(&mut self, _: &mut ()) -> Result<(), BoxError> {
        self.balances.clear();
        self.days.clear();
        Ok(())
    }
}

impl<E: BankViewEvent + Send> Project<E> for InMemoryBankViews {
    async fn project(&mut self, event: E, context: &mut Context<'_, ()>) -> Result<(), BoxError> {
        let change = event.change(context);
        self.apply(change);
        Ok(())
    }
}
