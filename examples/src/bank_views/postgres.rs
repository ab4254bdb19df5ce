//! The bank views in PostgreSQL: [`PostgresBankViews`] and the queries that read its tables.

use aggregato::prelude::*;
use aggregato::projection::Context;
use sqlx::{PgConnection, PgPool, Postgres};
use time::Date;

use super::sql::Sql;
use super::{AccountBalance, BankViewEvent, DayTotals};
use crate::bank::{AccountClosed, AccountOpened, BankAccount, MoneyDeposited, MoneyWithdrawn};

/// Balances and per-day totals in the tables `bank_balances` and `bank_daily_totals` of a
/// PostgreSQL schema (the connection's current one): run it with `PostgresCheckpoints` in the same schema, and the tables move
/// with the checkpoint, exactly once. Create the tables first ([`create_tables`]).
#[derive(Debug, Default, Projection)]
#[projection(
    events(AccountOpened, MoneyDeposited, MoneyWithdrawn, AccountClosed),
    aggregates(BankAccount),
    transaction = sqlx::PgConnection,
    error = sqlx::Error,
    name = "bank_views",
    reset = truncate,
)]
pub struct PostgresBankViews;

impl PostgresBankViews {
    /// Empties both tables, in the rebuild's transaction.
    async fn truncate(&mut self, transaction: &mut PgConnection) -> Result<(), sqlx::Error> {
        // TRUNCATE is transactional in PostgreSQL: a rebuild that fails keeps the old rows.
        sqlx::raw_sql("TRUNCATE bank_balances, bank_daily_totals")
            .execute(transaction)
            .await?;
        Ok(())
    }
}

// One impl for the four events: each knows its change, and the SQL is the same for all.
impl<E: BankViewEvent + Send> Project<E> for PostgresBankViews {
    async fn project(
        &mut self,
        event: E,
        context: &mut Context<'_, PgConnection>,
    ) -> Result<(), sqlx::Error> {
        let change = event.change(context);
        Sql::<Postgres>::write(context.transaction(), change).await
    }
}

/// Creates the views' tables in `pool`'s database where missing.
pub async fn create_tables(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut connection = pool.acquire().await?;
    Sql::<Postgres>::create_tables(&mut connection).await
}

/// The account `account`, if the views know it.
pub async fn balance(pool: &PgPool, account: &str) -> Result<Option<AccountBalance>, sqlx::Error> {
    Sql::<Postgres>::balance(&mut *pool.acquire().await?, account).await
}

/// Every account, by id.
pub async fn balances(pool: &PgPool) -> Result<Vec<AccountBalance>, sqlx::Error> {
    Sql::<Postgres>::balances(&mut *pool.acquire().await?).await
}

/// The totals of the UTC day `day`, if money moved that day.
pub async fn day_totals(pool: &PgPool, day: Date) -> Result<Option<DayTotals>, sqlx::Error> {
    Sql::<Postgres>::day(&mut *pool.acquire().await?, day).await
}

/// Every day's totals, oldest first.
pub async fn days(pool: &PgPool) -> Result<Vec<DayTotals>, sqlx::Error> {
    Sql::<Postgres>::days(&mut *pool.acquire().await?).await
}
