//! The SQL both backends run: PostgreSQL and SQLite (3.24 or later) accept the same upserts
//! (`INSERT ... ON CONFLICT ... DO UPDATE`) and `$n` parameters, so the statements and their
//! bindings are written once, generic over the sqlx database; only emptying the tables
//! differs (`TRUNCATE` is PostgreSQL's).

use std::marker::PhantomData;

use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use time::Date;
use time::macros::format_description;

use super::{AccountBalance, Change, ChangeKind, DayTotals};

/// Creates the views' tables where missing. Days are `YYYY-MM-DD` text (UTC), which sorts as
/// dates do and reads the same on both backends.
pub(super) const CREATE_TABLES: &str = "
CREATE TABLE IF NOT EXISTS bank_balances (
    account_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    balance BIGINT NOT NULL,
    open BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS bank_daily_totals (
    day TEXT PRIMARY KEY,
    deposits BIGINT NOT NULL,
    deposit_count BIGINT NOT NULL,
    withdrawals BIGINT NOT NULL,
    withdrawal_count BIGINT NOT NULL
);
";

const OPENED: &str = "
INSERT INTO bank_balances (account_id, owner, balance, open) VALUES ($1, $2, 0, TRUE)
ON CONFLICT (account_id) DO UPDATE SET owner = excluded.owner, balance = 0, open = TRUE";

const BALANCE: &str = "UPDATE bank_balances SET balance = $2 WHERE account_id = $1";

const ADD_TO_DAY: &str = "
INSERT INTO bank_daily_totals (day, deposits, deposit_count, withdrawals, withdrawal_count)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (day) DO UPDATE SET
    deposits = bank_daily_totals.deposits + excluded.deposits,
    deposit_count = bank_daily_totals.deposit_count + excluded.deposit_count,
    withdrawals = bank_daily_totals.withdrawals + excluded.withdrawals,
    withdrawal_count = bank_daily_totals.withdrawal_count + excluded.withdrawal_count";

const CLOSED: &str = "UPDATE bank_balances SET open = FALSE WHERE account_id = $1";

const SELECT_BALANCES: &str =
    "SELECT account_id, owner, balance, open FROM bank_balances ORDER BY account_id";

const SELECT_BALANCE: &str =
    "SELECT account_id, owner, balance, open FROM bank_balances WHERE account_id = $1";

const SELECT_DAYS: &str = "SELECT day, deposits, deposit_count, withdrawals, withdrawal_count
    FROM bank_daily_totals ORDER BY day";

const SELECT_DAY: &str = "SELECT day, deposits, deposit_count, withdrawals, withdrawal_count
    FROM bank_daily_totals WHERE day = $1";

/// How a day is stored: `YYYY-MM-DD`.
const DAY: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

type BalanceRow = (String, String, i64, bool);
type DayRow = (String, i64, i64, i64, i64);

/// The statements of the views on the database `DB`; the bounds say what sqlx must support
/// there (both sqlx drivers do).
pub(super) struct Sql<DB>(PhantomData<DB>);

impl<DB> Sql<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'r> BalanceRow: FromRow<'r, DB::Row>,
    for<'r> DayRow: FromRow<'r, DB::Row>,
{
    /// Creates the tables where missing.
    pub(super) async fn create_tables(connection: &mut DB::Connection) -> Result<(), sqlx::Error> {
        sqlx::raw_sql(CREATE_TABLES).execute(connection).await?;
        Ok(())
    }

    /// Stores `change` through `connection` (the runner's transaction).
    pub(super) async fn write(
        connection: &mut DB::Connection,
        change: Change,
    ) -> Result<(), sqlx::Error> {
        match change.kind {
            ChangeKind::Opened { owner } => {
                sqlx::query(OPENED)
                    .bind(change.account)
                    .bind(owner)
                    .execute(&mut *connection)
                    .await?;
            }
            ChangeKind::Moved {
                balance,
                day,
                deposited,
                withdrawn,
            } => {
                sqlx::query(BALANCE)
                    .bind(change.account)
                    .bind(to_sql(balance)?)
                    .execute(&mut *connection)
                    .await?;
                sqlx::query(ADD_TO_DAY)
                    .bind(day_to_sql(day)?)
                    .bind(to_sql(deposited)?)
                    .bind(i64::from(deposited > 0))
                    .bind(to_sql(withdrawn)?)
                    .bind(i64::from(withdrawn > 0))
                    .execute(&mut *connection)
                    .await?;
            }
            ChangeKind::Closed => {
                sqlx::query(CLOSED)
                    .bind(change.account)
                    .execute(&mut *connection)
                    .await?;
            }
        }
        Ok(())
    }

    /// Every account, by id.
    pub(super) async fn balances(
        connection: &mut DB::Connection,
    ) -> Result<Vec<AccountBalance>, sqlx::Error> {
        let rows: Vec<BalanceRow> = sqlx::query_as(SELECT_BALANCES)
            .fetch_all(connection)
            .await?;
        rows.into_iter().map(balance_of).collect()
    }

    /// The account `account`, if the views know it.
    pub(super) async fn balance(
        connection: &mut DB::Connection,
        account: &str,
    ) -> Result<Option<AccountBalance>, sqlx::Error> {
        let row: Option<BalanceRow> = sqlx::query_as(SELECT_BALANCE)
            .bind(account.to_owned())
            .fetch_optional(connection)
            .await?;
        row.map(balance_of).transpose()
    }

    /// Every day's totals, oldest first.
    pub(super) async fn days(
        connection: &mut DB::Connection,
    ) -> Result<Vec<DayTotals>, sqlx::Error> {
        let rows: Vec<DayRow> = sqlx::query_as(SELECT_DAYS).fetch_all(connection).await?;
        rows.into_iter().map(day_of).collect()
    }

    /// The totals of `day`, if anything moved that day.
    pub(super) async fn day(
        connection: &mut DB::Connection,
        day: Date,
    ) -> Result<Option<DayTotals>, sqlx::Error> {
        let row: Option<DayRow> = sqlx::query_as(SELECT_DAY)
            .bind(day_to_sql(day)?)
            .fetch_optional(connection)
            .await?;
        row.map(day_of).transpose()
    }
}

/// Cents as SQL's BIGINT.
fn to_sql(cents: u64) -> Result<i64, sqlx::Error> {
    i64::try_from(cents).map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

/// A day as stored.
fn day_to_sql(day: Date) -> Result<String, sqlx::Error> {
    day.format(DAY)
        .map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

/// A BIGINT column as cents or a count.
fn from_sql(value: i64) -> Result<u64, sqlx::Error> {
    u64::try_from(value).map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

fn balance_of((account, owner, balance, open): BalanceRow) -> Result<AccountBalance, sqlx::Error> {
    Ok(AccountBalance {
        account,
        owner,
        balance: from_sql(balance)?,
        open,
    })
}

fn day_of(
    (day, deposits, deposit_count, withdrawals, withdrawal_count): DayRow,
) -> Result<DayTotals, sqlx::Error> {
    let day = Date::parse(&day, DAY).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
    Ok(DayTotals {
        day,
        deposits: from_sql(deposits)?,
        deposit_count: from_sql(deposit_count)?,
        withdrawals: from_sql(withdrawals)?,
        withdrawal_count: from_sql(withdrawal_count)?,
    })
}
