//! What the process tests share: the child process, a generator of bank events, and the
//! database a test runs on (a PostgreSQL schema of its own, or a SQLite file).

#![allow(dead_code)] // Each test uses the part it needs.

pub mod child;
pub mod proxy;
pub mod runs;

use std::sync::Arc;
use std::time::Duration;

use aggregato::projection::postgres::PostgresCheckpoints;
use aggregato::projection::sqlite::SqliteCheckpoints;
use aggregato::projection::{CheckpointStore as _, ProjectionKey, ProjectionState};
use aggregato::{
    EventEnvelope, EventStore, ExpectedVersion, Metadata, NewEvent, PostgresEventStore,
    SqliteEventStore,
};
use aggregato_examples::bank::{
    AccountId, AccountOpened, BankAccountEvent, MoneyDeposited, MoneyWithdrawn,
};
use aggregato_tests::account_totals::{self, ReadModel};

use crate::support::stores::PgSchema;

/// A small deterministic generator (SplitMix64): the tests print their seed, so a failing
/// run can be repeated.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// Seeded from `AGGREGATO_TEST_SEED`, or the clock.
    pub fn from_env(test: &str) -> Self {
        let seed = std::env::var("AGGREGATO_TEST_SEED")
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|elapsed| elapsed.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("{test}: AGGREGATO_TEST_SEED={seed}");
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `range`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// A duration of up to `max`.
    pub fn up_to(&mut self, max: Duration) -> Duration {
        Duration::from_micros(self.below(max.as_micros() as u64 + 1))
    }
}

/// Bank accounts whose events are appended straight to the store, each stream at the
/// version it expects: accounts are opened, then get deposits and withdrawals.
pub struct Bank {
    accounts: Vec<Account>,
    rng: Rng,
}

struct Account {
    id: String,
    version: u64,
    balance: u64,
}

impl Bank {
    /// `count` accounts named `{prefix}{n}`, none opened yet.
    pub fn new(prefix: &str, count: usize, rng: Rng) -> Self {
        let accounts = (0..count)
            .map(|n| Account {
                id: format!("{prefix}{n}"),
                version: 0,
                balance: 0,
            })
            .collect();
        Self { accounts, rng }
    }

    /// The next append: one account's stream, the version it expects, and 1 to 8 events.
    fn next_append(&mut self) -> (String, ExpectedVersion, Vec<NewEvent>) {
        let index = self.rng.below(self.accounts.len() as u64) as usize;
        let count = 1 + self.rng.below(8);
        let mut events = Vec::new();
        let rng = &mut self.rng;
        let account = &mut self.accounts[index];
        let expected = ExpectedVersion::Exact(account.version);
        for _ in 0..count {
            let event: BankAccountEvent = if account.version == 0 {
                AccountOpened {
                    account_id: AccountId(account.id.clone()),
                    owner: format!("owner of {}", account.id),
                }
                .into()
            } else {
                let amount = 1 + rng.below(1000);
                if rng.below(3) == 0 && account.balance >= amount {
                    account.balance -= amount;
                    MoneyWithdrawn {
                        amount,
                        balance: account.balance,
                    }
                    .into()
                } else {
                    account.balance += amount;
                    MoneyDeposited {
                        amount,
                        balance: account.balance,
                    }
                    .into()
                }
            };
            account.version += 1;
            events.push(NewEvent::encode("BankAccount", &event, Metadata::new()).expect("encode"));
        }
        (format!("BankAccount-{}", account.id), expected, events)
    }

    /// Appends at least `count` events, in appends of 1 to 8, pausing up to `pause` between
    /// appends.
    pub async fn append(&mut self, store: &dyn EventStore, count: usize, pause: Duration) {
        let mut appended = 0;
        while appended < count {
            let (stream, expected, events) = self.next_append();
            appended += events.len();
            store
                .append(&stream, expected, events)
                .await
                .expect("append bank events");
            if !pause.is_zero() {
                let wait = self.rng.up_to(pause);
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// The checkpoint key of the projection the `projector` runs.
pub fn key() -> ProjectionKey {
    ProjectionKey::new(account_totals::NAME, 1)
}

/// Where a test's events, checkpoint and read model live.
pub enum Database {
    Postgres {
        url: String,
        store: Arc<PostgresEventStore>,
        schema: PgSchema,
    },
    Sqlite {
        path: String,
        store: Arc<SqliteEventStore>,
        _dir: tempfile::TempDir,
    },
}

impl Database {
    /// A schema of its own in `url`, migrated, with the read model's table.
    pub async fn postgres(url: &str) -> Self {
        let name = format!("aggregato_test_{}", uuid::Uuid::now_v7().simple());
        let store = PostgresEventStore::connect_in_schema(url, &name)
            .await
            .unwrap_or_else(|error| {
                panic!("DATABASE_URL is set but PostgreSQL is unusable: {error}")
            });
        sqlx::query(account_totals::PG_TABLE)
            .execute(store.pool())
            .await
            .expect("create the read model's table");
        Self::Postgres {
            url: url.to_owned(),
            store: Arc::new(store),
            schema: PgSchema {
                url: url.to_owned(),
                name,
            },
        }
    }

    /// A SQLite file in a temporary directory, migrated, with the read model's table.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("bank.db").display().to_string();
        let store = SqliteEventStore::connect(&path).await.expect("open SQLite");
        sqlx::query(account_totals::SQLITE_TABLE)
            .execute(store.pool())
            .await
            .expect("create the read model's table");
        Self::Sqlite {
            path,
            store: Arc::new(store),
            _dir: dir,
        }
    }

    /// The schema's name (PostgreSQL) or the file's path (SQLite).
    pub fn name(&self) -> &str {
        match self {
            Self::Postgres { schema, .. } => &schema.name,
            Self::Sqlite { path, .. } => path,
        }
    }

    /// The event store.
    pub fn store(&self) -> Arc<dyn EventStore> {
        match self {
            Self::Postgres { store, .. } => Arc::clone(store) as Arc<dyn EventStore>,
            Self::Sqlite { store, .. } => Arc::clone(store) as Arc<dyn EventStore>,
        }
    }

    /// The `projector` arguments for owner `owner` on this database, then `extra`.
    pub fn args(&self, owner: &str, extra: &[&str]) -> Vec<String> {
        self.args_via(None, owner, extra)
    }

    /// [`args`](Self::args), connecting to PostgreSQL through `url` when given (a proxy).
    pub fn args_via(&self, via: Option<&str>, owner: &str, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = match self {
            Self::Postgres { url, schema, .. } => vec![
                "--postgres".into(),
                via.unwrap_or(url).to_owned(),
                "--schema".into(),
                schema.name.clone(),
                // Only this test's connections are cut off by `terminate_backends`.
                "--app-name".into(),
                schema.name.clone(),
            ],
            Self::Sqlite { path, .. } => vec!["--sqlite".into(), path.clone()],
        };
        args.extend(["--owner".into(), owner.into()]);
        args.extend(extra.iter().map(|arg| (*arg).to_owned()));
        args
    }

    /// The read model's rows.
    pub async fn read_model(&self) -> ReadModel {
        match self {
            Self::Postgres { store, .. } => account_totals::read_pg(store.pool()).await,
            Self::Sqlite { store, .. } => account_totals::read_sqlite(store.pool()).await,
        }
        .expect("read the read model")
    }

    /// The projection's checkpoint row, if it has one.
    pub async fn state(&self) -> Option<ProjectionState> {
        match self {
            Self::Postgres { store, .. } => {
                PostgresCheckpoints::new(store.pool().clone())
                    .state(&key())
                    .await
            }
            Self::Sqlite { store, .. } => {
                SqliteCheckpoints::new(store.pool().clone())
                    .state(&key())
                    .await
            }
        }
        .expect("read the checkpoint")
    }

    /// The checkpoint's position (0 before the first claim).
    pub async fn checkpoint(&self) -> u64 {
        self.state().await.map_or(0, |state| state.position)
    }

    /// Every event in the store, in global order.
    pub async fn events(&self) -> Vec<EventEnvelope> {
        let store = self.store();
        let mut events = Vec::new();
        loop {
            let after = events
                .last()
                .map_or(0, |event: &EventEnvelope| event.position);
            let page = store.read_all(after, 1000).await.expect("read the log");
            if page.is_empty() {
                return events;
            }
            events.extend(page);
        }
    }

    /// The position of the newest event.
    pub async fn head(&self) -> u64 {
        self.events().await.last().map_or(0, |event| event.position)
    }

    /// Asserts that the read model holds exactly the events up to the checkpoint, each once.
    pub async fn assert_exact(&self, when: &str) -> u64 {
        let events = self.events().await;
        let position = self.checkpoint().await;
        let model = self.read_model().await;
        let expected = account_totals::expected(&events, position);
        if model != expected {
            let accounts: std::collections::BTreeSet<&String> =
                expected.keys().chain(model.keys()).collect();
            let differing: Vec<_> = accounts
                .into_iter()
                .filter(|account| model.get(*account) != expected.get(*account))
                .map(|account| (account, model.get(account), expected.get(account)))
                .take(10)
                .collect();
            panic!(
                "{when}: the read model is not the events up to checkpoint {position} applied once \
                 each; (account, read model, expected): {differing:?}"
            );
        }
        position
    }

    /// Ends every connection to this test's schema but the caller's (PostgreSQL only): what
    /// a server restart does to the runners, without restarting a server other tests share.
    /// How many were ended.
    pub async fn terminate_backends(&self) -> u64 {
        let Self::Postgres { store, schema, .. } = self else {
            panic!("terminate_backends needs PostgreSQL");
        };
        let ended: Vec<(bool,)> = sqlx::query_as(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND application_name = $1",
        )
        .bind(&schema.name)
        .fetch_all(store.pool())
        .await
        .expect("terminate the runners' connections");
        ended.iter().filter(|(ended,)| *ended).count() as u64
    }
}

/// The `DATABASE_URL` the PostgreSQL tests run against, if set.
pub fn database_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// Whether this is a CI run: `CI` is set, and is not empty, `false` or `0`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0")
}

/// Says that `test` was skipped for lack of `DATABASE_URL`; in CI, where a skipped test
/// would pass for a tested one, fails it instead.
pub fn skipped(test: &str) {
    assert!(
        !in_ci(),
        "{test}: DATABASE_URL is not set, and CI is: the PostgreSQL tests must run in CI"
    );
    eprintln!("skipped {test}: DATABASE_URL is not set");
}

/// A runtime for the test's own database work and appenders, beside the blocking waits on
/// the children.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}
