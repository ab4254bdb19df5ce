//! Opening a [`SqliteEventStore`]: the file in WAL mode with a busy timeout, openers of a new
//! file taking turns, and the migrations applied under SQLite's write lock.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::SqlitePool;
use sqlx::migrate::MigrateError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use tokio::sync::{Mutex, watch};

use super::{MIGRATOR, Shared, SqliteEventStore};
use crate::store::StoreError;
use crate::store::sql::backend;

impl SqliteEventStore {
    /// Opens (creating it if missing) the database at `url` (`sqlite://path/to/file.db`, or a
    /// bare path) in WAL mode with a 5-second busy timeout, and applies [`MIGRATOR`].
    ///
    /// Safe to call from several processes at once on a new file (instances of one service
    /// starting together): they take turns, for up to the busy timeout.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(BUSY_TIMEOUT);
        // Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is
        // locked" at once, without its busy handler, while another connection is doing the
        // same: opening is retried with a short backoff, for as long as the busy timeout.
        let deadline = Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_millis(5);
        loop {
            match Self::open(options.clone()).await {
                Err(error) if error.is_busy() && Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(OpenError::Sql(error)) => return Err(backend(error)),
                Err(OpenError::Migrate(error)) => return Err(backend(error)),
                Ok(store) => return Ok(store),
            }
        }
    }

    async fn open(options: SqliteConnectOptions) -> Result<Self, OpenError> {
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .map_err(OpenError::Sql)?;
        let store = Self::from_pool(pool);
        store.run_migrations().await?;
        Ok(store)
    }

    /// A store over a pool you configured, with the schema already in place (see
    /// [`Self::migrate`]). Use a file database: each connection to `sqlite::memory:` is a
    /// database of its own.
    pub fn from_pool(pool: SqlitePool) -> Self {
        Self {
            pool,
            shared: Arc::new(Shared {
                writer: Mutex::new(()),
                head: watch::Sender::new(0),
            }),
        }
    }

    /// Applies the pending migrations of [`MIGRATOR`]. Safe to run from several processes
    /// at once (instances of one service starting together on a new file): they take turns.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.run_migrations().await {
            Ok(()) => Ok(()),
            Err(OpenError::Sql(error)) => Err(backend(error)),
            Err(OpenError::Migrate(error)) => Err(backend(error)),
        }
    }

    async fn run_migrations(&self) -> Result<(), OpenError> {
        // sqlx's migrator takes no lock on SQLite, so two openers of a new file could both
        // find a migration missing and both apply it (the second failing on "table already
        // exists"). Holding SQLite's write lock from the start, with `BEGIN IMMEDIATE`, makes
        // them take turns: the second waits (up to the busy timeout), then finds the
        // migrations applied. The migrator's own transactions nest inside as savepoints.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(OpenError::Sql)?;
        MIGRATOR
            .run_direct(None, &mut *tx, false)
            .await
            .map_err(OpenError::Migrate)?;
        tx.commit().await.map_err(OpenError::Sql)
    }

    /// The connection pool, for queries of your own.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// How long a connection waits for another's lock, and how long opening retries.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why opening the store failed.
enum OpenError {
    Sql(sqlx::Error),
    Migrate(sqlx::migrate::MigrateError),
}

impl OpenError {
    /// Whether SQLite said "database is locked" (`SQLITE_BUSY`, any extended code).
    fn is_busy(&self) -> bool {
        let error = match self {
            Self::Sql(error)
            | Self::Migrate(
                MigrateError::Execute(error) | MigrateError::ExecuteMigration(error, _),
            ) => error,
            Self::Migrate(_) => return false,
        };
        let sqlx::Error::Database(db) = error else {
            return false;
        };
        db.code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| code & 0xff == SQLITE_BUSY)
    }
}

/// SQLite's primary result code for "database is locked".
const SQLITE_BUSY: i32 = 5;
