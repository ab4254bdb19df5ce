//! The SQL bank views against real databases: SQLite in a temporary file, and PostgreSQL in a
//! schema of its own per test (when `DATABASE_URL` is set; skipped visibly otherwise, and
//! failing in CI). Events in, table contents out, and the same contents as the in-memory
//! reference; days are UTC days; a runner builds them exactly once and rebuilds them.

mod support;

use std::sync::Arc;

use aggregato::prelude::*;
use aggregato::projection::postgres::PostgresCheckpoints;
use aggregato::projection::sqlite::SqliteCheckpoints;
use aggregato::projection::{Context, Projection};
use aggregato::testing::ProjectionFixture;
use aggregato::{
    EventEnvelope, EventStore, Metadata, PostgresEventStore, RecordedEvent, SqliteEventStore,
};
use aggregato_examples::bank::*;
use aggregato_examples::bank_views::memory::{InMemoryBankViews, InMemoryBankViewsEvent};
use aggregato_examples::bank_views::postgres::{
    self as pg, PostgresBankViews, PostgresBankViewsEvent,
};
use aggregato_examples::bank_views::sqlite::{self, SqliteBankViews, SqliteBankViewsEvent};
use aggregato_examples::bank_views::{AccountBalance, DayTotals};
use support::{EXPECTED_SUMS, PgSchema, expected_balances, history, server_url, sums};
use time::OffsetDateTime;
use time::macros::{date, datetime};

/// Fails in CI without `DATABASE_URL`: the PostgreSQL tests would be skipped there.
#[test]
fn postgres_tests_are_not_skipped_in_ci() {
    assert!(
        !support::in_ci() || std::env::var_os("DATABASE_URL").is_some_and(|url| !url.is_empty()),
        "CI is set but DATABASE_URL is not: the PostgreSQL tests would be skipped"
    );
}

/// A migrated SQLite store in a temporary directory, with the views' tables.
async fn sqlite_store() -> (SqliteEventStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("views.db").display());
    let store = SqliteEventStore::connect(&url).await.expect("open SQLite");
    sqlite::create_tables(store.pool())
        .await
        .expect("create the views' tables");
    (store, dir)
}

/// A migrated PostgreSQL store in its own schema, with the views' tables; `None` (skipped)
/// without `DATABASE_URL`.
async fn postgres_store(test: &str) -> Option<PgSchema> {
    let url = server_url("DATABASE_URL", test)?;
    let schema = PgSchema::new(&url).await;
    pg::create_tables(schema.store.pool())
        .await
        .expect("create the views' tables");
    Some(schema)
}

/// The in-memory reference fed with [`history`].
async fn reference() -> InMemoryBankViews {
    let mut fixture = ProjectionFixture::new(InMemoryBankViews::default());
    for (stream, events) in history::<InMemoryBankViewsEvent>() {
        fixture = fixture.given(stream, events).await.expect("project");
    }
    fixture.into_projection()
}

fn assert_views(balances: &[AccountBalance], days: &[DayTotals], reference: &InMemoryBankViews) {
    assert_eq!(balances, expected_balances());
    assert_eq!(sums(days), EXPECTED_SUMS);
    let expected: Vec<DayTotals> = reference.days().copied().collect();
    assert_eq!(days, expected, "the same days as the in-memory reference");
}

#[tokio::test]
async fn sqlite_tables_hold_what_the_events_say() {
    let (store, _dir) = sqlite_store().await;
    let pool = store.pool();
    let mut connection = pool.acquire().await.expect("a connection");
    let mut fixture = ProjectionFixture::new(SqliteBankViews);
    for (stream, events) in history::<SqliteBankViewsEvent>() {
        fixture = fixture
            .given_in(&mut connection, stream, events)
            .await
            .expect("project");
    }
    drop(connection);
    let balances = sqlite::balances(pool).await.expect("balances");
    let days = sqlite::days(pool).await.expect("days");
    assert_views(&balances, &days, &reference().await);
    let a = sqlite::balance(pool, "a").await.expect("balance");
    assert_eq!(a.map(|a| (a.balance, a.open)), Some((75, true)));
    assert_eq!(
        sqlite::balance(pool, "nobody").await.expect("balance"),
        None
    );
    let today = days.last().expect("a day").day;
    assert_eq!(
        sqlite::day_totals(pool, today).await.expect("day").as_ref(),
        days.last()
    );
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_tables_hold_what_the_events_say() {
    let Some(schema) = postgres_store("postgres_tables_hold_what_the_events_say").await else {
        return;
    };
    let pool = schema.store.pool();
    let mut connection = pool.acquire().await.expect("a connection");
    let mut fixture = ProjectionFixture::new(PostgresBankViews);
    for (stream, events) in history::<PostgresBankViewsEvent>() {
        fixture = fixture
            .given_in(&mut connection, stream, events)
            .await
            .expect("project");
    }
    drop(connection);
    let balances = pg::balances(pool).await.expect("balances");
    let days = pg::days(pool).await.expect("days");
    assert_views(&balances, &days, &reference().await);
    let b = pg::balance(pool, "b").await.expect("balance");
    assert_eq!(b.map(|b| (b.balance, b.open)), Some((0, false)));
    let today = days.last().expect("a day").day;
    assert_eq!(
        pg::day_totals(pool, today).await.expect("day").as_ref(),
        days.last()
    );
}

/// An envelope of a `BankAccount-a` event recorded at `recorded_at`.
fn envelope(position: u64, event_type: &str, recorded_at: OffsetDateTime) -> RecordedEvent {
    EventEnvelope {
        event_id: uuid::Uuid::now_v7(),
        stream_id: "BankAccount-a".into(),
        aggregate_type: "BankAccount".into(),
        version: position,
        position,
        recorded_at,
        event_type: event_type.into(),
        event_version: 1,
        metadata: Metadata::default(),
        payload: (),
    }
}

/// An opening, then deposits at 23:59:59 UTC and 00:30 +02:00 (March 1st in UTC), and one
/// at 23:30 -02:00 (March 2nd in UTC), handed to `views` writing through `transaction`.
async fn project_around_midnight<P, T>(views: &mut P, transaction: &mut T)
where
    P: Projection<Transaction = T> + Project<AccountOpened> + Project<MoneyDeposited>,
    P::Error: std::fmt::Debug,
{
    let opened = AccountOpened {
        account_id: AccountId("a".into()),
        owner: "ann".into(),
    };
    let at = envelope(1, "AccountOpened", datetime!(2026-03-01 10:00 UTC));
    views
        .project(opened, &mut Context::new(&at, transaction, false))
        .await
        .expect("open");
    let moves = [
        (datetime!(2026-03-01 23:59:59 UTC), 10, 10),
        (datetime!(2026-03-02 00:30 +02:00), 20, 30),
        (datetime!(2026-03-01 23:30 -02:00), 40, 70),
    ];
    for (n, (at, amount, balance)) in (2..).zip(moves) {
        let at = envelope(n, "MoneyDeposited", at);
        views
            .project(
                MoneyDeposited { amount, balance },
                &mut Context::new(&at, transaction, false),
            )
            .await
            .expect("deposit");
    }
}

fn day(day: time::Date, deposits: u64, deposit_count: u64) -> DayTotals {
    DayTotals {
        deposits,
        deposit_count,
        ..DayTotals::new(day)
    }
}

#[tokio::test]
async fn sqlite_days_are_utc_days() {
    let (store, _dir) = sqlite_store().await;
    let mut connection = store.pool().acquire().await.expect("a connection");
    project_around_midnight(&mut SqliteBankViews, &mut *connection).await;
    drop(connection);
    assert_eq!(
        sqlite::days(store.pool()).await.expect("days"),
        vec![
            day(date!(2026 - 03 - 01), 30, 2),
            day(date!(2026 - 03 - 02), 40, 1)
        ]
    );
    assert_eq!(
        sqlite::day_totals(store.pool(), date!(2026 - 03 - 02))
            .await
            .expect("day"),
        Some(day(date!(2026 - 03 - 02), 40, 1))
    );
    assert_eq!(
        sqlite::day_totals(store.pool(), date!(2026 - 03 - 03))
            .await
            .expect("day"),
        None
    );
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_days_are_utc_days() {
    let Some(schema) = postgres_store("postgres_days_are_utc_days").await else {
        return;
    };
    let pool = schema.store.pool();
    let mut connection = pool.acquire().await.expect("a connection");
    project_around_midnight(&mut PostgresBankViews, &mut *connection).await;
    drop(connection);
    assert_eq!(
        pg::days(pool).await.expect("days"),
        vec![
            day(date!(2026 - 03 - 01), 30, 2),
            day(date!(2026 - 03 - 02), 40, 1)
        ]
    );
}

/// Runs the bank's commands for two accounts on `store`.
async fn bank_commands<S: EventStore + aggregato::store::SnapshotStore + 'static>(store: Arc<S>) {
    let bank: Repository<BankAccount, _> =
        Repository::new_with_services(store, BankServices::default());
    for (id, owner) in [("a", "ann"), ("b", "bob")] {
        let id = AccountId(id.into());
        bank.execute(
            &id,
            OpenAccount {
                account_id: id.clone(),
                owner: owner.into(),
            },
        )
        .await
        .expect("open");
    }
    let (a, b) = (AccountId("a".into()), AccountId("b".into()));
    bank.execute(&a, DepositMoney { amount: 100 })
        .await
        .expect("deposit");
    bank.execute(&a, WithdrawMoney { amount: 30 })
        .await
        .expect("withdraw");
    bank.execute(&b, DepositMoney { amount: 40 })
        .await
        .expect("deposit");
    bank.execute(&b, WithdrawMoney { amount: 40 })
        .await
        .expect("withdraw");
    bank.execute(&b, CloseAccount).await.expect("close");
    bank.execute(&a, DepositMoney { amount: 5 })
        .await
        .expect("deposit");
}

#[tokio::test]
async fn sqlite_runner_builds_once_and_rebuilds_the_same_tables() {
    let (store, _dir) = sqlite_store().await;
    let pool = store.pool().clone();
    let store = Arc::new(store);
    bank_commands(Arc::clone(&store)).await;
    let checkpoints = SqliteCheckpoints::new(pool.clone());
    let mut runner =
        ProjectionRunner::new(Arc::clone(&store), checkpoints.clone(), SqliteBankViews)
            .with_batch_size(3);
    let progress = runner.catch_up().await.expect("catch up");
    assert_eq!(progress.handled, 8);
    let built = (
        sqlite::balances(&pool).await.expect("balances"),
        sqlite::days(&pool).await.expect("days"),
    );
    assert_eq!(built.0, expected_balances());
    assert_eq!(sums(&built.1), EXPECTED_SUMS);

    // Caught up, a second pass (a restart) handles nothing: the checkpoint moved with the rows.
    runner.release().await.expect("release");
    let mut restarted = ProjectionRunner::new(Arc::clone(&store), checkpoints, SqliteBankViews);
    assert_eq!(restarted.catch_up().await.expect("resume").handled, 0);

    let progress = restarted.rebuild().await.expect("rebuild");
    assert_eq!((progress.handled, progress.replaying), (8, true));
    let rebuilt = (
        sqlite::balances(&pool).await.expect("balances"),
        sqlite::days(&pool).await.expect("days"),
    );
    assert_eq!(
        rebuilt, built,
        "the reset emptied the tables: nothing counted twice"
    );
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_runner_builds_once_and_rebuilds_the_same_tables() {
    let Some(schema) =
        postgres_store("postgres_runner_builds_once_and_rebuilds_the_same_tables").await
    else {
        return;
    };
    let pool = schema.store.pool().clone();
    let store = Arc::new(PostgresEventStore::from_pool(pool.clone()));
    bank_commands(Arc::clone(&store)).await;
    let checkpoints = PostgresCheckpoints::new(pool.clone());
    let mut runner =
        ProjectionRunner::new(Arc::clone(&store), checkpoints.clone(), PostgresBankViews)
            .with_batch_size(3);
    assert_eq!(runner.catch_up().await.expect("catch up").handled, 8);
    let built = (
        pg::balances(&pool).await.expect("balances"),
        pg::days(&pool).await.expect("days"),
    );
    assert_eq!(built.0, expected_balances());
    assert_eq!(sums(&built.1), EXPECTED_SUMS);

    runner.release().await.expect("release");
    let mut restarted = ProjectionRunner::new(Arc::clone(&store), checkpoints, PostgresBankViews);
    assert_eq!(restarted.catch_up().await.expect("resume").handled, 0);
    let progress = restarted.rebuild().await.expect("rebuild");
    assert_eq!((progress.handled, progress.replaying), (8, true));
    let rebuilt = (
        pg::balances(&pool).await.expect("balances"),
        pg::days(&pool).await.expect("days"),
    );
    assert_eq!(
        rebuilt, built,
        "the reset emptied the tables: nothing counted twice"
    );
}
