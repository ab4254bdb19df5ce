//! Fresh stores of every kind for tests that run one check on each: in memory, SQLite in a
//! temporary directory, PostgreSQL in a schema of its own (when `DATABASE_URL` is set).

use std::sync::Arc;

use aggregato::{PostgresEventStore, SqliteEventStore};

use super::Guarded;

/// A SQLite store in a temporary directory, removed with the store.
pub async fn sqlite_store() -> Arc<Guarded<SqliteEventStore, tempfile::TempDir>> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("events.db").display());
    let store = SqliteEventStore::connect(&url).await.expect("open SQLite");
    Arc::new(Guarded { store, guard: dir })
}

/// A store in a schema of its own, dropped with the store; `None` without `DATABASE_URL`.
pub async fn postgres_store() -> Option<Arc<Guarded<PostgresEventStore, PgSchema>>> {
    let url = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!("aggregato_test_{}", uuid::Uuid::now_v7().simple());
    let store = PostgresEventStore::connect_in_schema(&url, &name)
        .await
        .unwrap_or_else(|error| panic!("DATABASE_URL is set but PostgreSQL is unusable: {error}"));
    Some(Arc::new(Guarded {
        store,
        guard: PgSchema { url, name },
    }))
}

/// A schema dropped (with everything in it) when the value is dropped.
pub struct PgSchema {
    pub url: String,
    pub name: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, where blocking is not allowed.
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async {
                use sqlx::Connection as _;
                let mut connection = sqlx::PgConnection::connect(&url)
                    .await
                    .map_err(|error| error.to_string())?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
                )))
                .execute(&mut connection)
                .await
                .map_err(|error| error.to_string())?;
                Ok::<_, String>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}

/// Runs the check `$check` on the in-memory store, a SQLite file and, when `DATABASE_URL` is
/// set, a PostgreSQL schema. Without it the PostgreSQL run is reported as skipped, and fails
/// under `CI`, where a skip would pass for a check.
#[macro_export]
macro_rules! on_every_store {
    ($check:ident) => {{
        $check(::std::sync::Arc::new(::aggregato::InMemoryEventStore::new())).await;
        $check($crate::support::stores::sqlite_store().await).await;
        match $crate::support::stores::postgres_store().await {
            Some(store) => $check(store).await,
            None => aggregato::testing::conformance::skipped(concat!(
                stringify!($check),
                " on PostgreSQL"
            )),
        }
    }};
}
