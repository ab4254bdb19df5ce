//! Which store an example binary runs on, chosen from its command line and environment.
//!
//! - no option: a SQLite file in a new temporary directory, removed when the program ends (so
//!   the story replays the same on every run, and no server is needed);
//! - `--sqlite URL` (`sqlite://path/to/file.db`, or a bare path): a SQLite file that is kept,
//!   so a second run continues from the first;
//! - `--postgres URL` (`postgres://user@host/database`), or the environment variable
//!   `AGGREGATO_DATABASE_URL` set to such a URL: PostgreSQL; `--schema NAME` puts the store in
//!   that schema (created if missing) instead of the connection's default one.
//!
//! Command-line options win over the environment. The migrations are applied on opening.

use std::fmt;
use std::sync::Arc;

use aggregato::store::SnapshotStore;
use aggregato::{EventStore, PostgresEventStore, SqliteEventStore, StoreError};
use sqlx::{PgPool, SqlitePool};
use tempfile::TempDir;

/// The environment variable that selects a database when no option does.
pub const DATABASE_URL_VAR: &str = "AGGREGATO_DATABASE_URL";

/// What the examples need from a store: events and snapshots.
pub trait ExampleStore: EventStore + SnapshotStore {}

impl<S: EventStore + SnapshotStore> ExampleStore for S {}

/// Where the store lives, as chosen by [`StoreChoice::from_args`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// A SQLite file in a fresh temporary directory.
    TemporarySqlite,
    /// A SQLite database that is kept.
    Sqlite(String),
    /// PostgreSQL, in `schema` if given.
    Postgres {
        /// The connection URL.
        url: String,
        /// The schema to use instead of the connection's default.
        schema: Option<String>,
    },
}

/// A command line the examples do not understand.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsageError {
    /// An option that takes a value came last.
    #[error("{0} needs a value")]
    MissingValue(String),
    /// An option no example knows.
    #[error("unknown option {0}; use --sqlite URL, --postgres URL [--schema NAME]")]
    UnknownOption(String),
    /// `--schema` without PostgreSQL.
    #[error("--schema only applies to PostgreSQL (--postgres URL or {DATABASE_URL_VAR})")]
    SchemaWithoutPostgres,
    /// A URL of neither kind in the environment.
    #[error("{DATABASE_URL_VAR} must start with postgres:// or sqlite:, got {0}")]
    UnknownUrl(String),
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The command line was wrong.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The temporary directory could not be created.
    #[error("cannot create a temporary directory: {0}")]
    TempDir(#[source] std::io::Error),
    /// The database refused.
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
}

impl StoreChoice {
    /// Reads `args` (without the program name) and the value of [`DATABASE_URL_VAR`].
    pub fn from_args(
        args: impl IntoIterator<Item = String>,
        env_url: Option<String>,
    ) -> Result<Self, UsageError> {
        let mut choice = None;
        let mut schema = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| UsageError::MissingValue(arg.clone()))
            };
            match arg.as_str() {
                "--sqlite" => choice = Some(Self::Sqlite(value()?)),
                "--postgres" => {
                    choice = Some(Self::Postgres {
                        url: value()?,
                        schema: None,
                    })
                }
                "--schema" => schema = Some(value()?),
                _ => return Err(UsageError::UnknownOption(arg)),
            }
        }
        let choice = match (choice, env_url.filter(|url| !url.is_empty())) {
            (Some(choice), _) => choice,
            (None, Some(url)) if url.starts_with("postgres") => {
                Self::Postgres { url, schema: None }
            }
            (None, Some(url)) if url.starts_with("sqlite:") => Self::Sqlite(url),
            (None, Some(url)) => return Err(UsageError::UnknownUrl(url)),
            (None, None) => Self::TemporarySqlite,
        };
        match (choice, schema) {
            (Self::Postgres { url, .. }, Some(schema)) => Ok(Self::Postgres {
                url,
                schema: Some(schema),
            }),
            (_, Some(_)) => Err(UsageError::SchemaWithoutPostgres),
            (choice, None) => Ok(choice),
        }
    }

    /// The choice of this process: its command line and environment.
    pub fn from_env() -> Result<Self, UsageError> {
        Self::from_args(
            std::env::args().skip(1),
            std::env::var(DATABASE_URL_VAR).ok(),
        )
    }

    /// Opens (and migrates) the chosen store.
    pub async fn open(self) -> Result<OpenedStore, OpenError> {
        match self {
            Self::TemporarySqlite => {
                let dir = tempfile::tempdir().map_err(OpenError::TempDir)?;
                let path = dir.path().join("events.db");
                let store = SqliteEventStore::connect(&path.display().to_string()).await?;
                Ok(OpenedStore {
                    database: Database::Sqlite(store.pool().clone()),
                    store: Arc::new(store),
                    description: format!("SQLite file {} (temporary)", path.display()),
                    _temporary: Some(dir),
                })
            }
            Self::Sqlite(url) => {
                let store = SqliteEventStore::connect(&url).await?;
                Ok(OpenedStore {
                    database: Database::Sqlite(store.pool().clone()),
                    store: Arc::new(store),
                    description: format!("SQLite {url}"),
                    _temporary: None,
                })
            }
            Self::Postgres { url, schema } => {
                let (store, description) = match schema {
                    Some(schema) => (
                        PostgresEventStore::connect_in_schema(&url, &schema).await?,
                        format!("PostgreSQL, schema {schema}"),
                    ),
                    None => (
                        PostgresEventStore::connect(&url).await?,
                        "PostgreSQL".to_owned(),
                    ),
                };
                Ok(OpenedStore {
                    database: Database::Postgres(store.pool().clone()),
                    store: Arc::new(store),
                    description,
                    _temporary: None,
                })
            }
        }
    }
}

/// The database a store lives in: where the examples keep their read models too, so a
/// projection's writes commit with its checkpoint.
#[derive(Debug, Clone)]
pub enum Database {
    /// A SQLite file.
    Sqlite(SqlitePool),
    /// A PostgreSQL schema (the pool's connections have it as their current schema).
    Postgres(PgPool),
}

/// An open store, and what keeps it alive.
pub struct OpenedStore {
    /// The store, shared.
    pub store: Arc<dyn ExampleStore>,
    /// Its database.
    pub database: Database,
    /// Where it lives, for the user (no password: URLs are not repeated).
    pub description: String,
    /// The temporary directory of a temporary store, removed on drop.
    _temporary: Option<TempDir>,
}

impl fmt::Debug for OpenedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedStore")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(args: &[&str], env: Option<&str>) -> Result<StoreChoice, UsageError> {
        StoreChoice::from_args(
            args.iter().map(|arg| arg.to_string()),
            env.map(str::to_owned),
        )
    }

    #[test]
    fn without_options_a_temporary_sqlite_file() {
        assert_eq!(choose(&[], None), Ok(StoreChoice::TemporarySqlite));
        assert_eq!(choose(&[], Some("")), Ok(StoreChoice::TemporarySqlite));
    }

    #[test]
    fn options_win_over_the_environment() {
        assert_eq!(
            choose(&["--sqlite", "bank.db"], Some("postgres://db")),
            Ok(StoreChoice::Sqlite("bank.db".to_owned()))
        );
        assert_eq!(
            choose(&["--postgres", "postgres://a", "--schema", "s"], None),
            Ok(StoreChoice::Postgres {
                url: "postgres://a".to_owned(),
                schema: Some("s".to_owned())
            })
        );
    }

    #[test]
    fn the_environment_picks_the_backend_by_scheme() {
        assert_eq!(
            choose(&["--schema", "s"], Some("postgres://db")),
            Ok(StoreChoice::Postgres {
                url: "postgres://db".to_owned(),
                schema: Some("s".to_owned())
            })
        );
        assert_eq!(
            choose(&[], Some("sqlite://x.db")),
            Ok(StoreChoice::Sqlite("sqlite://x.db".to_owned()))
        );
        assert_eq!(
            choose(&[], Some("mysql://db")),
            Err(UsageError::UnknownUrl("mysql://db".to_owned()))
        );
    }

    #[test]
    fn mistakes_are_usage_errors() {
        assert_eq!(
            choose(&["--postgres"], None),
            Err(UsageError::MissingValue("--postgres".to_owned()))
        );
        assert_eq!(
            choose(&["--verbose"], None),
            Err(UsageError::UnknownOption("--verbose".to_owned()))
        );
        assert_eq!(
            choose(&["--schema", "s"], None),
            Err(UsageError::SchemaWithoutPostgres)
        );
    }
}
