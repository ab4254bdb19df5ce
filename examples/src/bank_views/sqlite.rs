//! The bank views in SQLite: [`SqliteBankViews`] and the queries that read its tables.

use aggregato::prelude::*;
use aggregato::projection::Context;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use time::Date;

use super::sql::Sql;
use super::{AccountBalance, BankViewEvent, DayTotals};
use crate::bank::{AccountClosed, AccountOpened, BankAccount, MoneyDeposited, MoneyWithdrawn};

/// Balances and per-day totals in the tables `bank_balances` and `bank_daily_totals` of a
/// SQLite database: run it with `SqliteCheckpoints` on the same file, and the tables move
/// with the checkpoint, exactly once. Create the tables first ([`create_tables`]).
#[derive(Debug, Default, Projection)]
#[projection(
    events(AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed),
    aggregates(BankAccount),
    transaction = sqlx::SqliteConnection,
    error = sqlx::Error,
    name = "bank_views",
    reset = truncate,
)]
pub struct SqliteBankViews;

impl SqliteBankViews {
    /// Empties both tables, in the rebuild's transaction.
    async fn truncate(&mut self, transaction: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        // SQLite has no TRUNCATE; a DELETE without WHERE is its fast equivalent.
        sqlx::raw_sql("DELETE FROM bank_balances; DELETE FROM bank_daily_totals")
            .execute(transaction)
            .await?;
        Ok(())
    }
}

// One impl for the four events: each knows its change, and the SQL is the same for all.
impl<E: BankViewEvent + Send> Project<E> for SqliteBankViews {
    async fn project(
        &mut self,
        event: E,
        context: &mut Context<'_, SqliteConnection>,
    ) -> Result<(), sqlx::Error> {
        let change = event.change(context);
        Sql::<Sqlite>::write(context.transaction(), change).await
    }
}

/// Creates the views' tables in `pool`'s database where missing.
pub async fn create_tables(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut connection = pool.acquire().await?;
    Sql::<Sqlite>::create_tables(&mut connection).await
}

/// The account `account`, if the views know it.
pub async fn balance(
    pool: &SqlitePool,
    account: &str,
) -> Result<Option<AccountBalance>, sqlx::Error> {
    Sql::<Sqlite>::balance(&mut *pool.acquire().await?, account).await
}

/// Every account, by id.
pub async fn balances(pool: &SqlitePool) -> Result<Vec<AccountBalance>, sqlx::Error> {
    Sql::<Sqlite>::balances(&mut *pool.acquire().await?).await
}

/// The totals of the UTC day `day`, if money moved that day.
pub async fn day_totals(pool: &SqlitePool, day: Date) -> Result<Option<DayTotals>, sqlx::Error> {
    Sql::<Sqlite>::day(&mut *pool.acquire().await?, day).await
}

/// Every day's totals, oldest first.
pub async fn days(pool: &SqlitePool) -> Result<Vec<DayTotals>, sqlx::Error> {
    Sql::<Sqlite>::days(&mut *pool.acquire().await?).await
}
