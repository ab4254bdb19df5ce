//! A SQL read model of the bank example: per account, the balance and the number of events,
//! written through the checkpoint store's transaction. The `projector` binary runs it in OS
//! processes that `tests/projection_processes.rs` kills, freezes and cuts off; the test
//! compares the table with [`expected`], computed from the events themselves.
//!
//! The balance is accumulated from the amounts (`balance + amount`), never copied from the
//! event's running balance, and the count is incremented: an event applied twice or skipped
//! shows in both.

use std::collections::BTreeMap;

use aggregato::EventEnvelope;
use aggregato::prelude::*;
use aggregato::projection::Context;
use aggregato_examples::bank::{
    AccountClosed, AccountOpened, BankAccount, BankAccountEvent, MoneyDeposited, MoneyWithdrawn,
};
use sqlx::{PgConnection, SqliteConnection};

/// The projection's checkpoint name.
pub const NAME: &str = "account_totals";

/// The read model's table, in PostgreSQL.
pub const PG_TABLE: &str = "CREATE TABLE IF NOT EXISTS account_totals (\
     account TEXT PRIMARY KEY, balance BIGINT NOT NULL, events BIGINT NOT NULL)";

/// The read model's table, in SQLite.
pub const SQLITE_TABLE: &str = "CREATE TABLE IF NOT EXISTS account_totals (\
     account TEXT PRIMARY KEY, balance INTEGER NOT NULL, events INTEGER NOT NULL)";

/// Per account: its balance and how many of its events were applied.
pub type ReadModel = BTreeMap<String, (i64, i64)>;

/// How an event changes its account's balance.
pub trait Change {
    /// The amount added to the balance (negative: taken from it).
    fn change(&self) -> i64;
}

impl Change for AccountOpened {
    fn change(&self) -> i64 {
        0
    }
}

impl Change for MoneyDeposited {
    fn change(&self) -> i64 {
        i64::try_from(self.amount).unwrap_or(i64::MAX)
    }
}

impl Change for MoneyWithdrawn {
    fn change(&self) -> i64 {
        -i64::try_from(self.amount).unwrap_or(i64::MAX)
    }
}

impl Change for AccountClosed {
    fn change(&self) -> i64 {
        0
    }
}

impl Change for BankAccountEvent {
    fn change(&self) -> i64 {
        match self {
            Self::AccountOpened(event) => event.change(),
            Self::MoneyDeposited(event) => event.change(),
            Self::MoneyWithdrawn(event) => event.change(),
            Self::AccountClosed(event) => event.change(),
        }
    }
}

/// What the read model holds once the events of `events` up to position `up_to` are
/// applied, each once: computed here, without the runner.
pub fn expected<'a>(events: impl IntoIterator<Item = &'a EventEnvelope>, up_to: u64) -> ReadModel {
    let mut model = ReadModel::new();
    for envelope in events {
        if envelope.position > up_to || envelope.aggregate_type != "BankAccount" {
            continue;
        }
        let Ok(decoded) = envelope.clone().decode::<BankAccountEvent>() else {
            continue;
        };
        let account = envelope
            .stream_id
            .strip_prefix("BankAccount-")
            .unwrap_or(&envelope.stream_id)
            .to_owned();
        let entry = model.entry(account).or_default();
        entry.0 += decoded.payload.change();
        entry.1 += 1;
    }
    model
}

/// The read model in PostgreSQL, writing through the batch's `PgConnection`.
#[derive(Debug, Default, Projection)]
#[projection(
    events(AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed),
    aggregates(BankAccount),
    transaction = sqlx::PgConnection,
    error = sqlx::Error,
    name = "account_totals",
)]
pub struct PgTotals;

impl<E: Change + Send> Project<E> for PgTotals {
    async fn project(
        &mut self,
        event: E,
        context: &mut Context<'_, PgConnection>,
    ) -> Result<(), sqlx::Error> {
        let account = context.aggregate_id().to_owned();
        sqlx::query(
            "INSERT INTO account_totals (account, balance, events) VALUES ($1, $2, 1) \
             ON CONFLICT (account) DO UPDATE SET balance = account_totals.balance + $2, \
             events = account_totals.events + 1",
        )
        .bind(account)
        .bind(event.change())
        .execute(&mut *context.transaction())
        .await?;
        Ok(())
    }
}

/// The read model in SQLite, writing through the batch's `SqliteConnection`.
#[derive(Debug, Default, Projection)]
#[projection(
    events(AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed),
    aggregates(BankAccount),
    transaction = sqlx::SqliteConnection,
    error = sqlx::Error,
    name = "account_totals",
)]
pub struct SqliteTotals;

impl<E: Change + Send> Project<E> for SqliteTotals {
    async fn project(
        &mut self,
        event: E,
        context: &mut Context<'_, SqliteConnection>,
    ) -> Result<(), sqlx::Error> {
        let account = context.aggregate_id().to_owned();
        sqlx::query(
            "INSERT INTO account_totals (account, balance, events) VALUES (?1, ?2, 1) \
             ON CONFLICT (account) DO UPDATE SET balance = account_totals.balance + ?2, \
             events = account_totals.events + 1",
        )
        .bind(account)
        .bind(event.change())
        .execute(&mut *context.transaction())
        .await?;
        Ok(())
    }
}

/// The read model's rows in PostgreSQL (the pool's schema).
pub async fn read_pg(pool: &sqlx::PgPool) -> Result<ReadModel, sqlx::Error> {
    let rows: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT account, balance, events FROM account_totals")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(account, balance, events)| (account, (balance, events)))
        .collect())
}

/// The read model's rows in SQLite.
pub async fn read_sqlite(pool: &sqlx::SqlitePool) -> Result<ReadModel, sqlx::Error> {
    let rows: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT account, balance, events FROM account_totals")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(account, balance, events)| (account, (balance, events)))
        .collect())
}
