//! The bank's query side: read models built from the bank account events of
//! [`bank`](crate::bank), by projections.
//!
//! - [`sqlite::SqliteBankViews`] and [`postgres::PostgresBankViews`] keep each account's
//!   balance and each UTC day's deposit and withdrawal totals in two SQL tables
//!   (`bank_balances`, `bank_daily_totals`). They write through the runner's transaction, so
//!   with `SqliteCheckpoints` / `PostgresCheckpoints` in the same database each event changes
//!   the tables exactly once. Both run the same SQL (the private `sql` module); only the
//!   connection type differs. Their `reset` empties the tables, so they can be rebuilt.
//! - [`redis::RedisBankViews`] keeps balances and day totals in Redis keys that expire. Redis
//!   cannot join the checkpoint's transaction, so delivery is at least once: it de-duplicates
//!   by event id in the same atomic script that writes.
//! - [`memory::InMemoryBankViews`] keeps them in maps: for tests, and the reference the
//!   others are checked against.
//!
//! What an event does to the views is decided once, in [`Change`]; each backend only stores
//! it.

pub mod memory;
pub mod postgres;
pub mod redis;
pub mod run;
mod sql;
pub mod sqlite;

use aggregato::projection::Context;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::bank::{AccountClosed, AccountOpened, MoneyDeposited, MoneyWithdrawn};

/// The name the views' checkpoint is kept under (each backend keeps its own).
pub const NAME: &str = "bank_views";

/// What one bank event does to the views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The account (the aggregate id).
    pub account: String,
    /// What happened to it.
    pub kind: ChangeKind,
}

/// What happened to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// It was opened for `owner`, with a balance of 0.
    Opened {
        /// Its holder.
        owner: String,
    },
    /// Money moved in or out on `day` (UTC), leaving `balance`.
    Moved {
        /// The balance after the move.
        balance: u64,
        /// The UTC day the event was recorded on.
        day: Date,
        /// Deposited, in cents (0 for a withdrawal).
        deposited: u64,
        /// Withdrawn, in cents (0 for a deposit).
        withdrawn: u64,
    },
    /// It was closed.
    Closed,
}

/// The UTC day `recorded_at` falls on: per-day totals do not depend on the server's zone.
pub fn utc_day(recorded_at: OffsetDateTime) -> Date {
    recorded_at.to_offset(UtcOffset::UTC).date()
}

/// A bank event the views read: what it changes, given its envelope.
pub trait BankViewEvent {
    /// The change of this event, of the account and at the time `context` names.
    fn change<T>(self, context: &Context<'_, T>) -> Change;
}

fn change<T>(context: &Context<'_, T>, kind: ChangeKind) -> Change {
    Change {
        account: context.aggregate_id().to_owned(),
        kind,
    }
}

impl BankViewEvent for AccountOpened {
    fn change<T>(self, context: &Context<'_, T>) -> Change {
        change(context, ChangeKind::Opened { owner: self.owner })
    }
}

impl BankViewEvent for MoneyDeposited {
    fn change<T>(self, context: &Context<'_, T>) -> Change {
        let kind = ChangeKind::Moved {
            balance: self.balance,
            day: utc_day(context.recorded_at()),
            deposited: self.amount,
            withdrawn: 0,
        };
        change(context, kind)
    }
}

impl BankViewEvent for MoneyWithdrawn {
    fn change<T>(self, context: &Context<'_, T>) -> Change {
        let kind = ChangeKind::Moved {
            balance: self.balance,
            day: utc_day(context.recorded_at()),
            deposited: 0,
            withdrawn: self.amount,
        };
        change(context, kind)
    }
}

impl BankViewEvent for AccountClosed {
    fn change<T>(self, context: &Context<'_, T>) -> Change {
        change(context, ChangeKind::Closed)
    }
}

/// One account as the views show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountBalance {
    /// The account.
    pub account: String,
    /// Its holder.
    pub owner: String,
    /// Its balance, in cents.
    pub balance: u64,
    /// Whether it is open (not closed).
    pub open: bool,
}

/// One UTC day's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayTotals {
    /// The day.
    pub day: Date,
    /// Deposited that day, in cents.
    pub deposits: u64,
    /// How many deposits.
    pub deposit_count: u64,
    /// Withdrawn that day, in cents.
    pub withdrawals: u64,
    /// How many withdrawals.
    pub withdrawal_count: u64,
}

impl DayTotals {
    /// A day with nothing moved yet.
    pub fn new(day: Date) -> Self {
        Self {
            day,
            deposits: 0,
            deposit_count: 0,
            withdrawals: 0,
            withdrawal_count: 0,
        }
    }

    /// Adds a move of `deposited` in and `withdrawn` out.
    pub fn add(&mut self, deposited: u64, withdrawn: u64) {
        self.deposits += deposited;
        self.withdrawals += withdrawn;
        self.deposit_count += u64::from(deposited > 0);
        self.withdrawal_count += u64::from(withdrawn > 0);
    }
}

impl std::fmt::Display for AccountBalance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.open { "open" } else { "closed" };
        write!(
            f,
            "{} ({}): balance {}, {state}",
            self.account, self.owner, self.balance
        )
    }
}

impl std::fmt::Display for DayTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: deposits {} ({}), withdrawals {} ({})",
            self.day, self.deposits, self.deposit_count, self.withdrawals, self.withdrawal_count
        )
    }
}
