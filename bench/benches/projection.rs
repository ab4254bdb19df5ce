//! Projection throughput on PostgreSQL: aggregato's `ProjectionRunner` with
//! `PostgresCheckpoints` against a hand-written loop doing the same work, on the server named
//! by `DATABASE_URL` (skipped, exit 0, without it).
//!
//! The log: the 100 accounts and 10,000 commands of the command workload, 10,100 events
//! (seeded once, untimed). The read model: one row per account (balance, event count),
//! upserted per event. Both sides commit the read model's writes and their checkpoint in one
//! transaction per batch of 1, 100 or 1,000 events, and both read the log in pages of 512.
//!
//! - `ours`: a `#[derive(Projection)]` projection, `ProjectionRunner::catch_up`. Its
//!   checkpoint write is fenced (owner, epoch and expected position).
//! - `handwritten`: a loop over raw sqlx: SELECT a page of the events table, decode each
//!   payload into the typed event, per batch BEGIN, the upserts, an UPDATE of its own
//!   checkpoint row guarded by the expected position, COMMIT.
//!
//! Every sample starts from an empty read model and checkpoint (reset in the untimed setup),
//! and its read model is checked after the timed run.

mod common;

use std::str::FromStr;
use std::time::Duration;

use aggregato::projection::postgres::PostgresCheckpoints;
use aggregato::projection::{BoxError, CheckpointStore as _, Context, ProjectionKey};
use aggregato::{EventStore as _, ExpectedVersion, Project, Projection, ProjectionRunner};
use common::domain::{AccountOpened, MoneyDeposited, MoneyWithdrawn};
use common::ours::{Account, AccountEvent, encoded_events};
use common::workload::{Op, Workload};
use common::{multi_thread_runtime, pg};
use divan::Bencher;
use divan::counter::ItemsCount;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

const WORKLOAD: Workload = Workload::new(100, 10_000);
const SCHEMA: &str = "aggregato_bench_projection";
const PAGE: i64 = 512;

fn main() {
    if pg::database_url().is_none() {
        println!(
            "projection bench skipped: DATABASE_URL is not set \
             (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
        );
        return;
    }
    multi_thread_runtime().block_on(seed());
    divan::main();
}

fn url() -> String {
    pg::database_url().expect("DATABASE_URL")
}

fn event_count() -> usize {
    WORKLOAD.total_commands()
}

/// The events of the workload in one fresh schema, with the two read-model tables.
async fn seed() {
    let store = pg::ours_store(&url(), SCHEMA).await;
    let ids = WORKLOAD.account_ids();
    let mut per_account: Vec<Vec<Op>> = vec![vec![Op::Open]; ids.len()];
    for (account, op) in WORKLOAD.ops().skip(ids.len()) {
        per_account[account].push(op);
    }
    for (id, ops) in ids.iter().zip(per_account) {
        store
            .append(
                &pg::stream_of(id),
                ExpectedVersion::NoStream,
                encoded_events(ops, id),
            )
            .await
            .expect("seed the events");
    }
    let pool = pool().await;
    PostgresCheckpoints::new(pool.clone())
        .migrate()
        .await
        .expect("the checkpoint tables");
    for table in ["ours_balances", "handwritten_balances"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE {table} (account_id TEXT PRIMARY KEY, balance BIGINT NOT NULL, events BIGINT NOT NULL)"
        )))
        .execute(&pool)
        .await
        .expect("a read-model table");
    }
    sqlx::query(
        "CREATE TABLE handwritten_checkpoint (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("the hand-written checkpoint table");
}

async fn pool() -> PgPool {
    let options = PgConnectOptions::from_str(&url())
        .expect("parse DATABASE_URL")
        .options([("search_path", SCHEMA)]);
    PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .expect("connect")
}

/// The upsert both sides run per event.
fn upsert(table: &str) -> String {
    format!(
        "INSERT INTO {table} (account_id, balance, events) VALUES ($1, $2, 1) \
         ON CONFLICT (account_id) DO UPDATE \
         SET balance = {table}.balance + EXCLUDED.balance, events = {table}.events + 1"
    )
}

/// The amount an event moves.
fn amount_of(event: &AccountEvent) -> i64 {
    match event {
        AccountEvent::AccountOpened(_) => 0,
        AccountEvent::MoneyDeposited(MoneyDeposited { amount }) => *amount,
        AccountEvent::MoneyWithdrawn(MoneyWithdrawn { amount }) => -amount,
    }
}

/// Checks a read model: every account's balance and event count.
async fn verify(pool: &PgPool, table: &str) {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT account_id, balance, events FROM {table} ORDER BY account_id"
    )))
    .fetch_all(pool)
    .await
    .expect("read the read model");
    assert_eq!(
        rows.len(),
        WORKLOAD.accounts,
        "{table}: one row per account"
    );
    let events: i64 = rows.iter().map(|row| row.get::<i64, _>(2)).sum();
    assert_eq!(
        events as usize,
        event_count(),
        "{table}: every event counted once"
    );
    WORKLOAD.verify(table, |index| rows[index].get::<i64, _>(1));
}

// ---- ours ----

/// The read model, as a user writes it: one upsert per event, through the batch's transaction.
#[derive(Projection)]
#[projection(
    events(AccountOpened, MoneyDeposited, MoneyWithdrawn),
    aggregates(Account),
    transaction = PgConnection,
    name = "bench_balances"
)]
struct Balances {
    upsert: String,
}

impl Balances {
    async fn add(
        &self,
        amount: i64,
        context: &mut Context<'_, PgConnection>,
    ) -> Result<(), BoxError> {
        let account = context.aggregate_id().to_owned();
        sqlx::query(sqlx::AssertSqlSafe(self.upsert.as_str()))
            .bind(account)
            .bind(amount)
            .execute(context.transaction())
            .await?;
        Ok(())
    }
}

impl Project<AccountOpened> for Balances {
    async fn project(
        &mut self,
        _: AccountOpened,
        context: &mut Context<'_, PgConnection>,
    ) -> Result<(), BoxError> {
        self.add(0, context).await
    }
}

impl Project<MoneyDeposited> for Balances {
    async fn project(
        &mut self,
        event: MoneyDeposited,
        context: &mut Context<'_, PgConnection>,
    ) -> Result<(), BoxError> {
        self.add(event.amount, context).await
    }
}

impl Project<MoneyWithdrawn> for Balances {
    async fn project(
        &mut self,
        event: MoneyWithdrawn,
        context: &mut Context<'_, PgConnection>,
    ) -> Result<(), BoxError> {
        self.add(-event.amount, context).await
    }
}

fn ours(bencher: Bencher, batch_size: usize) {
    bencher
        .counter(ItemsCount::new(event_count()))
        .with_inputs(|| {
            let runtime = multi_thread_runtime();
            let (store, checkpoints, pool, owner) = runtime.block_on(async {
                let pool = pool().await;
                let checkpoints = PostgresCheckpoints::new(pool.clone());
                let owner = Uuid::now_v7();
                reset_ours(&pool, &checkpoints, owner).await;
                let store = aggregato::PostgresEventStore::from_pool(pool.clone());
                (store, checkpoints, pool, owner)
            });
            let runner = ProjectionRunner::new(
                store,
                checkpoints,
                Balances {
                    upsert: upsert("ours_balances"),
                },
            )
            .with_owner(owner)
            .with_batch_size(batch_size)
            .with_lease(Duration::from_secs(600));
            (runtime, runner, pool)
        })
        .bench_local_values(|(runtime, mut runner, pool)| {
            let progress = runtime
                .block_on(runner.catch_up())
                .expect("the projection catches up");
            assert_eq!(progress.handled as usize, event_count());
            runtime.block_on(verify(&pool, "ours_balances"));
        });
}

/// Empties the read model and sets the checkpoint back to 0, under `owner`'s claim.
async fn reset_ours(pool: &PgPool, checkpoints: &PostgresCheckpoints, owner: Uuid) {
    sqlx::query("TRUNCATE ours_balances")
        .execute(pool)
        .await
        .expect("truncate");
    let key = ProjectionKey::new(Balances::NAME, Balances::VERSION);
    // A previous sample's runner holds the claim: wait for nobody, take it over by expiring it.
    sqlx::query("UPDATE aggregato_checkpoints SET lease_until = now() - interval '1 second'")
        .execute(pool)
        .await
        .ok();
    let claim = checkpoints
        .claim(&key, owner, Duration::from_secs(600))
        .await
        .expect("claim")
        .expect("free");
    let mut batch = checkpoints.begin().await.expect("begin");
    checkpoints
        .rewind(&mut batch, &claim, claim.position)
        .await
        .expect("rewind");
    checkpoints.commit(batch).await.expect("commit");
}

// ---- hand-written ----

const HANDWRITTEN_READ: &str = "SELECT position, stream_id, event_type, payload::text \
     FROM aggregato_events WHERE position > $1 AND aggregate_type = 'Account' \
     ORDER BY position LIMIT $2";

/// The loop a team writes by hand: page through the events table, decode, and per batch one
/// transaction with the upserts and the guarded checkpoint update.
async fn handwritten_run(pool: &PgPool, batch_size: usize) -> usize {
    let upsert = upsert("handwritten_balances");
    let mut position: i64 = 0;
    let mut handled = 0;
    loop {
        let rows = sqlx::query(HANDWRITTEN_READ)
            .bind(position)
            .bind(PAGE.max(batch_size as i64))
            .fetch_all(pool)
            .await
            .expect("read a page");
        if rows.is_empty() {
            return handled;
        }
        for batch in rows.chunks(batch_size) {
            let mut transaction = pool.begin().await.expect("begin");
            for row in batch {
                let stream: &str = row.get(1);
                let event_type: &str = row.get(2);
                let payload: &str = row.get(3);
                let event: AccountEvent = match event_type {
                    "AccountOpened" => AccountEvent::AccountOpened(
                        serde_json::from_str::<AccountOpened>(payload).expect("decode"),
                    ),
                    "MoneyDeposited" => AccountEvent::MoneyDeposited(
                        serde_json::from_str::<MoneyDeposited>(payload).expect("decode"),
                    ),
                    "MoneyWithdrawn" => AccountEvent::MoneyWithdrawn(
                        serde_json::from_str::<MoneyWithdrawn>(payload).expect("decode"),
                    ),
                    other => panic!("unknown event type {other}"),
                };
                let account = stream.strip_prefix("Account-").unwrap_or(stream);
                sqlx::query(sqlx::AssertSqlSafe(upsert.as_str()))
                    .bind(account)
                    .bind(amount_of(&event))
                    .execute(&mut *transaction)
                    .await
                    .expect("upsert");
            }
            let last: i64 = batch[batch.len() - 1].get(0);
            let moved = sqlx::query(
                "UPDATE handwritten_checkpoint SET position = $1 WHERE name = 'balances' AND position = $2",
            )
            .bind(last)
            .bind(position)
            .execute(&mut *transaction)
            .await
            .expect("checkpoint");
            assert_eq!(moved.rows_affected(), 1, "the checkpoint moved");
            transaction.commit().await.expect("commit");
            position = last;
            handled += batch.len();
        }
    }
}

fn handwritten(bencher: Bencher, batch_size: usize) {
    bencher
        .counter(ItemsCount::new(event_count()))
        .with_inputs(|| {
            let runtime = multi_thread_runtime();
            let pool = runtime.block_on(async {
                let pool = pool().await;
                for sql in [
                    "TRUNCATE handwritten_balances",
                    "DELETE FROM handwritten_checkpoint",
                    "INSERT INTO handwritten_checkpoint (name, position) VALUES ('balances', 0)",
                ] {
                    sqlx::query(sql).execute(&pool).await.expect("reset");
                }
                pool
            });
            (runtime, pool)
        })
        .bench_local_values(|(runtime, pool)| {
            let handled = runtime.block_on(handwritten_run(&pool, batch_size));
            assert_eq!(handled, event_count());
            runtime.block_on(verify(&pool, "handwritten_balances"));
        });
}

#[divan::bench_group(sample_count = 3, sample_size = 1)]
mod batch_1 {
    use super::*;

    #[divan::bench]
    fn ours(bencher: Bencher) {
        super::ours(bencher, 1);
    }

    #[divan::bench]
    fn handwritten(bencher: Bencher) {
        super::handwritten(bencher, 1);
    }
}

#[divan::bench_group(sample_count = 5, sample_size = 1)]
mod batch_100 {
    use super::*;

    #[divan::bench]
    fn ours(bencher: Bencher) {
        super::ours(bencher, 100);
    }

    #[divan::bench]
    fn handwritten(bencher: Bencher) {
        super::handwritten(bencher, 100);
    }
}

#[divan::bench_group(sample_count = 5, sample_size = 1)]
mod batch_1000 {
    use super::*;

    #[divan::bench]
    fn ours(bencher: Bencher) {
        super::ours(bencher, 1000);
    }

    #[divan::bench]
    fn handwritten(bencher: Bencher) {
        super::handwritten(bencher, 1000);
    }
}
