//! A SQL read model of the bank example: per account, the balance and the number of events,
//! written through the checkpoint store's transaction. The `projector` binary runs it in OS
//! processes that `tests/projection_processes.rs` kills, freezes and cuts off; the test
//! compares the table with [`expected`], computed from the events themselves.
//!
//! The balance is accumulated from the amounts (`balance + amount`), never copied from the
//! event's running balance, and the count is incremented: an event applied twice or skipped
//! shows in both.

use std::collections::BTreeMap;

use aggregato::projection::{BoxError, Context, OnFailure, Projection};
use aggregato::{EventEnvelope, EventFilter};
use aggregato_examples::bank::{BankAccountEvent, MoneyDeposited, MoneyWithdrawn};
use sqlx::{PgConnection, SqliteConnection};

/// The projection's checkpoint name.
pub const NAME: &str = "bank_balances";

/// The read model's table, in PostgreSQL.
pub const PG_TABLE: &str = "CREATE TABLE IF NOT EXISTS bank_balances (\
     account TEXT PRIMARY KEY, balance BIGINT NOT NULL, events BIGINT NOT NULL)";

/// The read model's table, in SQLite.
pub const SQLITE_TABLE: &str = "CREATE TABLE IF NOT EXISTS bank_balances (\
     account TEXT PRIMARY KEY, balance INTEGER NOT NULL, events INTEGER NOT NULL)";

/// Per account: its balance and how many of its events were applied.
pub type ReadModel = BTreeMap<String, (i64, i64)>;

/// How `event` changes its account's balance.
pub fn change(event: &BankAccountEvent) -> i64 {
    match event {
        BankAccountEvent::MoneyDeposited(MoneyDeposited { amount, .. }) => amount_of(*amount),
        BankAccountEvent::MoneyWithdrawn(MoneyWithdrawn { amount, .. }) => -amount_of(*amount),
        BankAccountEvent::AccountOpened(_) | BankAccountEvent::AccountClosed(_) => 0,
    }
}

fn amount_of(amount: u64) -> i64 {
    i64::try_from(amount).unwrap_or(i64::MAX)
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
        let account = account_of(&envelope.stream_id).to_owned();
        let entry = model.entry(account).or_default();
        entry.0 += change(&decoded.payload);
        entry.1 += 1;
    }
    model
}

fn account_of(stream_id: &str) -> &str {
    stream_id
        .strip_prefix("BankAccount-")
        .unwrap_or(stream_id)
}

/// The read model in PostgreSQL, writing through the batch's `PgConnection`.
#[derive(Debug, Default)]
pub struct PgBalances;

impl Projection for PgBalances {
    const NAME: &'static str = NAME;
    const VERSION: u32 = 1;
    const ON_FAILURE: OnFailure = OnFailure::Stop;
    const RESETTABLE: bool = false;
    type Event = BankAccountEvent;
    type Transaction = PgConnection;
    type Error = BoxError;

    fn filter() -> EventFilter {
        EventFilter::all().aggregate_types(["BankAccount"])
    }

    async fn dispatch(
        &mut self,
        event: BankAccountEvent,
        context: &mut Context<'_, PgConnection>,
    ) -> Result<(), BoxError> {
        let account = context.aggregate_id().to_owned();
        sqlx::query(
            "INSERT INTO bank_balances (account, balance, events) VALUES ($1, $2, 1) \
             ON CONFLICT (account) DO UPDATE SET balance = bank_balances.balance + $2, \
             events = bank_balances.events + 1",
        )
        .bind(account)
        .bind(change(&event))
        .execute(&mut *context.transaction())
        .await?;
        Ok(())
    }
}

/// The read model in SQLite, writing through the batch's `SqliteConnection`.
#[derive(Debug, Default)]
pub struct SqliteBalances;

impl Projection for SqliteBalances {
    const NAME: &'static str = NAME;
    const VERSION: u32 = 1;
    const ON_FAILURE: OnFailure = OnFailure::Stop;
    const RESETTABLE: bool = false;
    type Event = BankAccountEvent;
    type Transaction = SqliteConnection;
    type Error = BoxError;

    fn filter() -> EventFilter {
        EventFilter::all().aggregate_types(["BankAccount"])
    }

    async fn dispatch(
        &mut self,
        event: BankAccountEvent,
        context: &mut Context<'_, SqliteConnection>,
    ) -> Result<(), BoxError> {
        let account = context.aggregate_id().to_owned();
        sqlx::query(
            "INSERT INTO bank_balances (account, balance, events) VALUES (?1, ?2, 1) \
             ON CONFLICT (account) DO UPDATE SET balance = bank_balances.balance + ?2, \
             events = bank_balances.events + 1",
        )
        .bind(account)
        .bind(change(&event))
        .execute(&mut *context.transaction())
        .await?;
        Ok(())
    }
}

/// The read model's rows in PostgreSQL (the pool's schema).
pub async fn read_pg(pool: &sqlx::PgPool) -> Result<ReadModel, sqlx::Error> {
    let rows: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT account, balance, events FROM bank_balances")
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
        sqlx::query_as("SELECT account, balance, events FROM bank_balances")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(account, balance, events)| (account, (balance, events)))
        .collect())
}
