//! The PostgreSQL side: a fresh schema per benchmark, aggregato's `PostgresEventStore`,
//! postgres-es 0.5 (on its own sqlx 0.8 pool) and the raw limit with sqlx 0.9 and no framework.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use aggregato::{EventStore as _, PostgresEventStore};
use cqrs_es::persist::{PersistedEventRepository, PersistedEventStore, SerializedEvent};
use postgres_es::{PostgresCqrs, PostgresEventRepository};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Connection as _, PgConnection, Row as _};

use super::cqrs::{self, CqrsAccount};
use super::domain::{AccountOpened, Ledger, MoneyDeposited, MoneyWithdrawn};
use super::workload::{Op, Workload};

/// `DATABASE_URL`, when set and not empty.
pub fn database_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

fn quoted(schema: &str) -> String {
    format!("\"{}\"", schema.replace('"', "\"\""))
}

/// Drops `schema` with everything in it, if it exists, and creates it empty.
pub async fn recreate_schema(url: &str, schema: &str) {
    let mut connection = PgConnection::connect(url)
        .await
        .unwrap_or_else(|error| panic!("DATABASE_URL is set but unusable: {error}"));
    let schema = quoted(schema);
    for sql in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut connection)
            .await
            .expect("recreate a benchmark schema");
    }
    connection.close().await.expect("close a connection");
}

/// Drops `schema`, if it exists (after a run, so the next one starts from nothing).
pub async fn drop_schema(url: &str, schema: &str) {
    let mut connection = PgConnection::connect(url).await.expect("connect");
    sqlx::query(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {} CASCADE",
        quoted(schema)
    )))
    .execute(&mut connection)
    .await
    .expect("drop a benchmark schema");
}

// ---- aggregato ----

/// aggregato's store in a fresh `schema` (migrated by `connect_in_schema`).
pub async fn ours_store(url: &str, schema: &str) -> PostgresEventStore {
    recreate_schema(url, schema).await;
    PostgresEventStore::connect_in_schema(url, schema)
        .await
        .expect("aggregato: connect_in_schema")
}

// ---- postgres-es ----

/// The tables of postgres-es's `db/init.sql` (events and snapshots).
const POSTGRES_ES_TABLES: [&str; 2] = [
    "CREATE TABLE events
     (
         aggregate_type text                         NOT NULL,
         aggregate_id   text                         NOT NULL,
         sequence       bigint CHECK (sequence >= 0) NOT NULL,
         event_type     text                         NOT NULL,
         event_version  text                         NOT NULL,
         payload        json                         NOT NULL,
         metadata       json                         NOT NULL,
         PRIMARY KEY (aggregate_type, aggregate_id, sequence)
     )",
    "CREATE TABLE snapshots
     (
         aggregate_type   text                                 NOT NULL,
         aggregate_id     text                                 NOT NULL,
         last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
         current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
         payload          json                                 NOT NULL,
         PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
     )",
];

/// A sqlx 0.8 pool (postgres-es's sqlx) whose connections use `schema`, freshly recreated with
/// postgres-es's tables in it. Ten connections, as `postgres_es::default_postgress_pool`.
pub async fn postgres_es_pool(url: &str, schema: &str) -> sqlx08::PgPool {
    recreate_schema(url, schema).await;
    let options = sqlx08::postgres::PgConnectOptions::from_str(url)
        .expect("parse DATABASE_URL")
        .options([("search_path", quoted(schema).as_str())]);
    let pool = sqlx08::postgres::PgPoolOptions::new()
        .max_connections(10)
        .connect_with(options)
        .await
        .expect("postgres-es: connect");
    for table in POSTGRES_ES_TABLES {
        sqlx08::query(table)
            .execute(&pool)
            .await
            .expect("postgres-es: create its tables");
    }
    pool
}

/// postgres-es's framework (`postgres_cqrs`: events only, no snapshots) over `pool`.
pub fn postgres_es_framework(pool: sqlx08::PgPool) -> PostgresCqrs<CqrsAccount> {
    postgres_es::postgres_cqrs(pool, Vec::new(), ())
}

/// postgres-es's event store over `pool`, for loads outside the framework.
pub fn postgres_es_store(
    pool: sqlx08::PgPool,
) -> PersistedEventStore<PostgresEventRepository, CqrsAccount> {
    PersistedEventStore::new_event_store(PostgresEventRepository::new(pool))
}

/// Seeds account `account_id` with the events of `ops` through postgres-es's repository
/// (`persist`, one INSERT per event in one transaction).
pub async fn postgres_es_seed(pool: sqlx08::PgPool, account_id: &str, ops: &[Op]) {
    let events: Vec<SerializedEvent> = ops
        .iter()
        .enumerate()
        .map(|(index, &op)| {
            let event = cqrs::event(op, account_id);
            SerializedEvent::new(
                account_id.to_owned(),
                index + 1,
                <CqrsAccount as cqrs_es::Aggregate>::TYPE.to_owned(),
                cqrs_es::DomainEvent::event_type(&event),
                cqrs_es::DomainEvent::event_version(&event),
                serde_json::to_value(&event).expect("encode"),
                serde_json::to_value(HashMap::<String, String>::new()).expect("encode"),
            )
        })
        .collect();
    PostgresEventRepository::new(pool)
        .persist::<CqrsAccount>(&events, None)
        .await
        .expect("postgres-es: seed a stream");
}

/// The verification of a postgres-es run.
pub async fn postgres_es_verify(pool: sqlx08::PgPool, ids: &[String], workload: &Workload) {
    cqrs::verify("postgres-es", &postgres_es_store(pool), ids, workload).await;
}

/// Runs postgres-es with `clients` clients on disjoint accounts (1: one after the other).
pub async fn postgres_es_run(
    framework: &Arc<PostgresCqrs<CqrsAccount>>,
    ids: &[String],
    workload: &Workload,
    clients: usize,
) {
    if clients == 1 {
        cqrs::run(framework, ids, workload).await;
    } else {
        cqrs::run_concurrently(framework, ids, workload, clients).await;
    }
}

// ---- raw sqlx, no framework ----

/// The raw limit: one table, `(stream_id, version)` primary key, the event's name and its
/// JSONB payload (the event struct, as aggregato stores it). Written and read with sqlx 0.9.
#[derive(Debug, Clone)]
pub struct RawStore {
    /// The pool (ten connections, like the others').
    pub pool: PgPool,
}

/// The stream of account `account_id` (the same naming as aggregato's).
pub fn stream_of(account_id: &str) -> String {
    format!("Account-{account_id}")
}

const RAW_SELECT: &str =
    "SELECT version, event_type, payload FROM raw_events WHERE stream_id = $1 ORDER BY version";

impl RawStore {
    /// The raw table in a fresh `schema`.
    pub async fn connect(url: &str, schema: &str) -> Self {
        recreate_schema(url, schema).await;
        let options = PgConnectOptions::from_str(url)
            .expect("parse DATABASE_URL")
            .options([("search_path", quoted(schema).as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect_with(options)
            .await
            .expect("raw: connect");
        sqlx::query(
            "CREATE TABLE raw_events (
                 stream_id  TEXT   NOT NULL,
                 version    BIGINT NOT NULL,
                 event_type TEXT   NOT NULL,
                 payload    JSONB  NOT NULL,
                 PRIMARY KEY (stream_id, version)
             )",
        )
        .execute(&pool)
        .await
        .expect("raw: create the table");
        Self { pool }
    }

    /// Reads `stream` (one SELECT), decodes every payload into its typed event and folds them:
    /// the state and the version.
    pub async fn load(&self, stream: &str) -> (Ledger, i64) {
        let rows = sqlx::query(RAW_SELECT)
            .bind(stream)
            .fetch_all(&self.pool)
            .await
            .expect("raw: read a stream");
        let mut ledger = Ledger::default();
        let mut version = 0;
        for row in &rows {
            apply_row(&mut ledger, row);
            version = row.get::<i64, _>(0);
        }
        (ledger, version)
    }

    /// One command: load the stream, decide, INSERT the one event at the next version.
    pub async fn execute(&self, account_id: &str, op: Op) {
        let stream = stream_of(account_id);
        let (ledger, version) = self.load(&stream).await;
        let decided = match op {
            Op::Open => ledger
                .open(account_id.to_owned())
                .map(|event| ("AccountOpened", serde_json::to_value(event))),
            Op::Deposit(amount) => ledger
                .deposit(amount)
                .map(|event| ("MoneyDeposited", serde_json::to_value(event))),
            Op::Withdraw(amount) => ledger
                .withdraw(amount)
                .map(|event| ("MoneyWithdrawn", serde_json::to_value(event))),
        };
        let (event_type, payload) =
            decided.unwrap_or_else(|error| panic!("raw: {op:?} on {account_id}: {error}"));
        sqlx::query(
            "INSERT INTO raw_events (stream_id, version, event_type, payload)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&stream)
        .bind(version + 1)
        .bind(event_type)
        .bind(payload.expect("encode"))
        .execute(&self.pool)
        .await
        .expect("raw: insert an event");
    }

    /// Appends `events` (name, payload) to `stream` from version `first_version` in ONE
    /// multi-row INSERT (`UNNEST` of arrays).
    pub async fn append_many(
        &self,
        stream: &str,
        first_version: i64,
        events: Vec<(&'static str, serde_json::Value)>,
    ) {
        let versions: Vec<i64> = (first_version..).take(events.len()).collect();
        let (types, payloads): (Vec<&str>, Vec<serde_json::Value>) = events.into_iter().unzip();
        sqlx::query(
            "INSERT INTO raw_events (stream_id, version, event_type, payload)
             SELECT $1, v, t, p FROM UNNEST($2::bigint[], $3::text[], $4::jsonb[]) AS u(v, t, p)",
        )
        .bind(stream)
        .bind(versions)
        .bind(types)
        .bind(payloads)
        .execute(&self.pool)
        .await
        .expect("raw: multi-row insert");
    }

    /// Runs the workload with `clients` clients on disjoint accounts (1: one after the other).
    pub async fn run(&self, ids: &[String], workload: &Workload, clients: usize) {
        let tasks: Vec<_> = (0..clients)
            .map(|client| {
                let (raw, ids, workload) = (self.clone(), ids.to_vec(), *workload);
                tokio::spawn(async move {
                    for (account, op) in workload.ops_of_client(client, clients) {
                        raw.execute(&ids[account], op).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("a raw client panicked");
        }
    }

    /// Loads every account and checks its balance; panics otherwise.
    pub async fn verify(&self, ids: &[String], workload: &Workload) {
        let mut balances = Vec::with_capacity(ids.len());
        for id in ids {
            balances.push(self.load(&stream_of(id)).await.0.balance);
        }
        workload.verify("raw sqlx", |index| balances[index]);
    }
}

/// The (name, JSON payload) of the event `op` produces on `account_id`, for the raw table.
pub fn raw_event(op: Op, account_id: &str) -> (&'static str, serde_json::Value) {
    let encode = |value: Result<serde_json::Value, _>| value.expect("encode");
    match op {
        Op::Open => (
            "AccountOpened",
            encode(serde_json::to_value(AccountOpened {
                account_id: account_id.to_owned(),
            })),
        ),
        Op::Deposit(amount) => (
            "MoneyDeposited",
            encode(serde_json::to_value(MoneyDeposited { amount })),
        ),
        Op::Withdraw(amount) => (
            "MoneyWithdrawn",
            encode(serde_json::to_value(MoneyWithdrawn { amount })),
        ),
    }
}

fn apply_row(ledger: &mut Ledger, row: &PgRow) {
    let event_type: &str = row.get(1);
    match event_type {
        "AccountOpened" => ledger.opened(&row.get::<Json<AccountOpened>, _>(2).0),
        "MoneyDeposited" => ledger.deposited(&row.get::<Json<MoneyDeposited>, _>(2).0),
        "MoneyWithdrawn" => ledger.withdrawn(&row.get::<Json<MoneyWithdrawn>, _>(2).0),
        other => panic!("raw: unknown event type {other}"),
    }
}

// ---- plans ----

/// Prints the plan PostgreSQL picks for each store's stream read of `stream` / `account_id`
/// (aggregato in `ours`, postgres-es in `postgres_es`, raw in `raw`), and whether it uses an
/// index. Tables are not ANALYZEd: this is the plan the benchmark ran with.
pub async fn explain_stream_reads(
    url: &str,
    ours: &str,
    postgres_es: &str,
    raw: &str,
    account_id: &str,
) {
    let stream = stream_of(account_id).replace('\'', "''");
    let account = account_id.replace('\'', "''");
    let reads = [
        (
            "aggregato",
            ours,
            format!(
                "SELECT * FROM aggregato_events WHERE stream_id = '{stream}' AND version >= 1 \
                 ORDER BY version"
            ),
        ),
        (
            "postgres-es",
            postgres_es,
            format!(
                "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, \
                 payload, metadata FROM events WHERE aggregate_type = 'Account' AND \
                 aggregate_id = '{account}' ORDER BY sequence"
            ),
        ),
        (
            "raw sqlx",
            raw,
            format!(
                "SELECT version, event_type, payload FROM raw_events WHERE stream_id = \
                 '{stream}' ORDER BY version"
            ),
        ),
    ];
    let mut connection = PgConnection::connect(url).await.expect("connect");
    for (name, schema, select) in reads {
        sqlx::query(AssertSqlSafe(format!(
            "SET search_path TO {}",
            quoted(schema)
        )))
        .execute(&mut connection)
        .await
        .expect("set search_path");
        let plan: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!("EXPLAIN {select}")))
            .fetch_all(&mut connection)
            .await
            .expect("EXPLAIN a stream read");
        let indexed = plan.iter().any(|line| line.contains("Index"));
        println!(
            "EXPLAIN stream read, {name} (schema {schema}): uses an index: {}",
            if indexed { "yes" } else { "NO" }
        );
        for line in plan {
            println!("    {line}");
        }
    }
}

/// `ExpectedVersion` helper for seeding aggregato: append `events` to a new stream.
pub async fn ours_seed(store: &PostgresEventStore, stream: &str, events: Vec<aggregato::NewEvent>) {
    store
        .append(stream, aggregato::ExpectedVersion::NoStream, events)
        .await
        .expect("aggregato: seed a stream");
}
