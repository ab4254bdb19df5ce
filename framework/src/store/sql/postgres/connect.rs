//! Opening a [`PostgresEventStore`]: connecting (to a schema of its own, created if missing,
//! when asked), over a pool of the caller's, and applying the migrations.

use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::sync::watch;

use super::append::has_sqlstate;
use super::{MIGRATOR, PostgresEventStore, Shared};
use crate::store::StoreError;
use crate::store::sql::{backend, is_unique_violation};

impl PostgresEventStore {
    /// Connects to `url` (`postgres://user@host/database`), using the connection's default
    /// `search_path`, and applies [`MIGRATOR`].
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        Self::connect_with(options).await
    }

    /// Connects to `url` with every connection's `search_path` set to `schema` (created if
    /// missing), and applies [`MIGRATOR`] there: a store of its own inside a shared database.
    ///
    /// Safe to call from several processes at once on a new schema (instances of one service
    /// starting together): one creates it, the others find it. A name PostgreSQL would not
    /// take as it is written (empty, longer than 63 bytes, `$user`, `pg_...`) is refused
    /// with [`StoreError::InvalidConfig`] before anything is created.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        check_schema_name(schema)?;
        let options = PgConnectOptions::from_str(url).map_err(backend)?;
        let quoted = quote_identifier(schema);
        let mut connection = PgConnection::connect_with(&options)
            .await
            .map_err(backend)?;
        let created = sqlx::query(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS {quoted}"
        )))
        .execute(&mut connection)
        .await;
        match created {
            Ok(_) => {}
            // `IF NOT EXISTS` checks before it inserts, so two sessions creating the schema at
            // once can both pass the check; the loser's insert then fails on the catalog's
            // unique index. Either way the schema now exists, which is all this needs.
            Err(error) if is_unique_violation(&error) || has_sqlstate(&error, DUPLICATE_SCHEMA) => {
            }
            Err(error) => return Err(backend(error)),
        }
        connection.close().await.map_err(backend)?;
        Self::connect_with(options.options([("search_path", quoted.as_str())])).await
    }

    async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .connect_with(options)
            .await
            .map_err(backend)?;
        let store = Self::from_pool(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// A store over a pool you configured, with the schema already in place (see
    /// [`Self::migrate`]). The store uses the tables of the pool's current schema.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            shared: Arc::new(Shared {
                head: watch::Sender::new(0),
                pin_isolation: AtomicBool::new(false),
                listener: Mutex::new(None),
            }),
        }
    }

    /// Applies the pending migrations of [`MIGRATOR`] to the pool's current schema.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(backend)
    }

    /// The connection pool, for queries of your own.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// `"name"`, with inner quotes doubled: any string as a PostgreSQL identifier.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// SQLSTATE `duplicate_schema`.
const DUPLICATE_SCHEMA: &str = "42P06";

/// The longest identifier PostgreSQL keeps whole (`NAMEDATALEN - 1` bytes); a longer one is
/// silently truncated, so the schema created and the one searched could differ.
const MAX_IDENTIFIER_BYTES: usize = 63;

/// Refuses schema names that PostgreSQL would not use as written in `search_path`: `$user`
/// (read as "the schema named after the current user", even quoted), `pg_...` (reserved for
/// the system; `pg_temp` is a session's temporary schema), names it would truncate, and the
/// empty name or one with a NUL byte (which it cannot store).
fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let problem = if schema.is_empty() {
        Some("it is empty".to_owned())
    } else if schema.len() > MAX_IDENTIFIER_BYTES {
        Some(format!(
            "it is {} bytes long; PostgreSQL truncates names to {MAX_IDENTIFIER_BYTES}",
            schema.len()
        ))
    } else if schema == "$user" {
        Some(
            "`$user` in a search_path means the current user's schema, not one of that name"
                .to_owned(),
        )
    } else if schema.starts_with("pg_") {
        Some("names starting with `pg_` are reserved for PostgreSQL's own schemas".to_owned())
    } else if schema.contains('\0') {
        Some("it contains a NUL byte".to_owned())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(StoreError::InvalidConfig(format!(
            "schema name {schema:?} cannot be used: {problem}; choose another name"
        ))),
        None => Ok(()),
    }
}
