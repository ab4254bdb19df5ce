//! `PostgresCheckpoints` and `SqliteCheckpoints` against the checkpoint-store conformance
//! suite (`aggregato::testing::checkpoints`), a read model written in the batch, rows that do
//! not decode, and what only PostgreSQL does: claims that do not wait behind a frozen runner,
//! and batches the server ends when they sit idle. Also `head_position` of the SQL event
//! stores. Each PostgreSQL test runs in a schema of its own; without `DATABASE_URL` they are
//! built as ignored (see tests/build.rs) or report that they were skipped, which fails in CI.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aggregato::projection::postgres::PostgresCheckpoints;
use aggregato::projection::sqlite::SqliteCheckpoints;
use aggregato::projection::{CheckpointStore, CorruptCheckpoint, ProjectionError, ProjectionKey};
use aggregato::testing::checkpoints::{
    self as suite, LONG_LEASE, PAST_SHORT_LEASE, ReadModel, SHORT_LEASE,
};
use aggregato::testing::conformance::{sample_event, skipped};
use aggregato::{EventStore, ExpectedVersion, PostgresEventStore, SqliteEventStore};
use sqlx::{PgConnection, PgPool, SqliteConnection, SqlitePool};
use support::Guarded;
use support::stores::{PgSchema, postgres_store, sqlite_store};
use uuid::Uuid;

type PgStore = Arc<Guarded<PostgresEventStore, PgSchema>>;
type LiteStore = Arc<Guarded<SqliteEventStore, tempfile::TempDir>>;

/// Checkpoints in a fresh SQLite file, with the event store that owns the file.
async fn sqlite() -> (SqliteCheckpoints, LiteStore) {
    let store = sqlite_store().await;
    let checkpoints = SqliteCheckpoints::new(store.store.pool().clone());
    (checkpoints, store)
}

/// Checkpoints in a fresh PostgreSQL schema, or `None` without `DATABASE_URL`.
async fn postgres() -> Option<(PostgresCheckpoints, PgStore)> {
    let store = postgres_store().await?;
    let checkpoints = PostgresCheckpoints::new(store.store.pool().clone());
    Some((checkpoints, store))
}

/// One test per suite check, in memory, on SQLite and on PostgreSQL.
macro_rules! suite_tests {
    ($($check:ident),* $(,)?) => {
        mod sqlite_suite {
            $(
                #[tokio::test]
                async fn $check() {
                    let (checkpoints, _store) = super::sqlite().await;
                    super::suite::$check(&checkpoints).await;
                }
            )*
        }
        mod in_memory_suite {
            $(
                #[tokio::test]
                async fn $check() {
                    let checkpoints = aggregato::projection::InMemoryCheckpoints::default();
                    super::suite::$check(&checkpoints).await;
                }
            )*
        }
        mod postgres_suite {
            $(
                #[tokio::test]
                #[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
                async fn $check() {
                    match super::postgres().await {
                        Some((checkpoints, _store)) => super::suite::$check(&checkpoints).await,
                        None => super::skipped(concat!(stringify!($check), " on PostgreSQL")),
                    }
                }
            )*
        }
    };
}

suite_tests!(
    reads_of_unknown_projections_are_empty,
    claims_are_exclusive_until_the_lease_runs_out,
    a_runner_taken_over_cannot_advance,
    advance_is_fenced_by_the_expected_position,
    a_released_claim_is_taken_at_once,
    dead_letters_read_back_in_position_order,
    a_failure_shows_in_state_until_the_checkpoint_moves,
    rewind_sets_the_checkpoint_back_and_marks_replays,
    a_new_version_builds_beside_the_active_one,
);

/// A read model of markers in a table of the checkpoints' database.
struct Markers<P> {
    pool: P,
}

impl ReadModel<PostgresCheckpoints> for Markers<PgPool> {
    async fn write(&self, transaction: &mut PgConnection, marker: u64) {
        sqlx::query("INSERT INTO markers (marker) VALUES ($1)")
            .bind(i64::try_from(marker).expect("small marker"))
            .execute(transaction)
            .await
            .expect("write a marker");
    }

    async fn committed(&self) -> Vec<u64> {
        let markers: Vec<i64> = sqlx::query_scalar("SELECT marker FROM markers")
            .fetch_all(&self.pool)
            .await
            .expect("read the markers");
        markers.into_iter().map(|m| m.unsigned_abs()).collect()
    }
}

impl ReadModel<SqliteCheckpoints> for Markers<SqlitePool> {
    async fn write(&self, transaction: &mut SqliteConnection, marker: u64) {
        sqlx::query("INSERT INTO markers (marker) VALUES (?)")
            .bind(i64::try_from(marker).expect("small marker"))
            .execute(transaction)
            .await
            .expect("write a marker");
    }

    async fn committed(&self) -> Vec<u64> {
        let markers: Vec<i64> = sqlx::query_scalar("SELECT marker FROM markers")
            .fetch_all(&self.pool)
            .await
            .expect("read the markers");
        markers.into_iter().map(|m| m.unsigned_abs()).collect()
    }
}

#[tokio::test]
async fn sqlite_a_fenced_batch_rolls_back_the_read_model() {
    let (checkpoints, _store) = sqlite().await;
    let pool = checkpoints.pool().clone();
    sqlx::query("CREATE TABLE markers (marker INTEGER NOT NULL)")
        .execute(&pool)
        .await
        .expect("create the read model");
    suite::a_fenced_batch_rolls_back_the_read_model(&checkpoints, &Markers { pool }).await;
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_a_fenced_batch_rolls_back_the_read_model() {
    let Some((checkpoints, _store)) = postgres().await else {
        return skipped("a fenced batch rolls back the read model on PostgreSQL");
    };
    let pool = checkpoints.pool().clone();
    sqlx::query("CREATE TABLE markers (marker BIGINT NOT NULL)")
        .execute(&pool)
        .await
        .expect("create the read model");
    suite::a_fenced_batch_rolls_back_the_read_model(&checkpoints, &Markers { pool }).await;
}

/// A runner frozen inside a batch holds the checkpoint row's lock: another runner's claim,
/// once the frozen one's lease has run out, must come back at once as "not claimed" instead of
/// waiting for the frozen transaction, and succeed once that transaction is gone.
#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_a_claim_does_not_wait_behind_a_frozen_batch() {
    let Some((checkpoints, _store)) = postgres().await else {
        return skipped("a claim does not wait behind a frozen batch on PostgreSQL");
    };
    let checkpoints = checkpoints.with_claim_lock_timeout(Duration::from_millis(100));
    let key = ProjectionKey::new("frozen", 1);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let frozen = checkpoints
        .claim(&key, a, SHORT_LEASE)
        .await
        .expect("claim")
        .expect("granted");
    let mut batch = checkpoints.begin().await.expect("begin");
    checkpoints
        .advance(&mut batch, &frozen, 0, 1, SHORT_LEASE)
        .await
        .expect("advance, locking the row");
    tokio::time::sleep(PAST_SHORT_LEASE).await;

    let started = Instant::now();
    let claimed = tokio::time::timeout(
        Duration::from_secs(5),
        checkpoints.claim(&key, b, LONG_LEASE),
    )
    .await
    .expect("the claim must not wait for the frozen batch");
    assert_eq!(
        claimed.expect("claim"),
        None,
        "the locked row is not claimed"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the claim gave up after its lock timeout, not after {:?}",
        started.elapsed()
    );

    checkpoints.rollback(batch).await.expect("rollback");
    let taken = checkpoints
        .claim(&key, b, LONG_LEASE)
        .await
        .expect("claim")
        .expect("the row is free once the frozen batch is gone");
    assert_eq!((taken.epoch, taken.position), (frozen.epoch + 1, 0));
}

/// The server ends a batch that sits idle longer than the idle-in-transaction timeout: its
/// commit fails, its checkpoint write is gone, and the row's lock is released.
#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_an_idle_batch_is_ended_by_the_server() {
    let Some((checkpoints, _store)) = postgres().await else {
        return skipped("an idle batch is ended by the server on PostgreSQL");
    };
    let checkpoints = checkpoints.with_idle_in_transaction_timeout(Duration::from_millis(200));
    let key = ProjectionKey::new("idle", 1);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let idle = checkpoints
        .claim(&key, a, SHORT_LEASE)
        .await
        .expect("claim")
        .expect("granted");
    let mut batch = checkpoints.begin().await.expect("begin");
    checkpoints
        .advance(&mut batch, &idle, 0, 1, SHORT_LEASE)
        .await
        .expect("advance");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        checkpoints.commit(batch).await.is_err(),
        "the server must have ended the idle batch"
    );
    let state = checkpoints.state(&key).await.expect("state").expect("row");
    assert_eq!(state.position, 0, "the ended batch's advance is gone");
    let taken = checkpoints
        .claim(&key, b, LONG_LEASE)
        .await
        .expect("claim")
        .expect("the lease ran out and the row is unlocked");
    assert_eq!(taken.epoch, idle.epoch + 1);
}

/// The corrupt-row error behind a `ProjectionError`, or a failure of the test.
fn corrupt<T: std::fmt::Debug>(result: Result<T, ProjectionError>) -> CorruptCheckpoint {
    match result {
        Err(ProjectionError::Checkpoint(source)) => source
            .downcast_ref::<CorruptCheckpoint>()
            .unwrap_or_else(|| panic!("not a corrupt row: {source}"))
            .clone(),
        other => panic!("expected a corrupt-row error, got {other:?}"),
    }
}

/// Rows planted with raw SQL (the tables' checks set aside): each read names the row and what
/// is wrong with it instead of panicking or inventing a value.
async fn corrupt_rows_are_named<C: CheckpointStore>(
    checkpoints: &C,
    plant: impl AsyncFn(&'static str),
) {
    let key = ProjectionKey::new("corrupt", 1);
    let holder = checkpoints
        .claim(&key, Uuid::now_v7(), LONG_LEASE)
        .await
        .expect("claim")
        .expect("granted");
    let mut batch = checkpoints.begin().await.expect("begin");
    let letter = aggregato::projection::Failure {
        position: 4,
        event_id: Uuid::now_v7(),
        stream_id: "S-1".to_owned(),
        version: 1,
        event_type: "E".to_owned(),
        error: "boom".to_owned(),
        attempts: 1,
        failed_at: time::OffsetDateTime::UNIX_EPOCH,
    };
    checkpoints
        .dead_letter(&mut batch, &key, &letter)
        .await
        .expect("dead letter");
    checkpoints.commit(batch).await.expect("commit");

    plant("UPDATE aggregato_checkpoints SET status = 'paused'").await;
    let error = corrupt(checkpoints.state(&key).await);
    assert_eq!((error.name.as_str(), error.version), ("corrupt", 1));
    assert!(error.reason.contains("paused"), "{error}");
    let error = corrupt(checkpoints.claim(&key, holder.owner, LONG_LEASE).await);
    assert!(error.reason.contains("paused"), "{error}");

    plant("UPDATE aggregato_checkpoints SET status = 'running', position = -3").await;
    let error = corrupt(checkpoints.state(&key).await);
    assert!(error.reason.contains("position is negative"), "{error}");

    plant("UPDATE aggregato_dead_letters SET attempts = -1").await;
    let error = corrupt(checkpoints.dead_letters(&key).await);
    assert_eq!(error.dead_letter, Some(4), "{error}");
    assert!(error.reason.contains("failed_attempts"), "{error}");

    plant("UPDATE aggregato_checkpoints SET version = 1099511627776").await;
    let error = corrupt(checkpoints.active_version("corrupt").await);
    assert_eq!(error.version, 1_099_511_627_776, "{error}");
}

#[tokio::test]
async fn sqlite_corrupt_rows_are_named() {
    let (checkpoints, _store) = sqlite().await;
    let pool = checkpoints.pool().clone();
    corrupt_rows_are_named(&checkpoints, async |sql| {
        // The table's checks would refuse these rows; this connection sets them aside.
        let mut connection = pool.acquire().await.expect("connection");
        sqlx::query("PRAGMA ignore_check_constraints = ON")
            .execute(&mut *connection)
            .await
            .expect("pragma");
        sqlx::query(sql)
            .execute(&mut *connection)
            .await
            .expect("plant a row");
        sqlx::query("PRAGMA ignore_check_constraints = OFF")
            .execute(&mut *connection)
            .await
            .expect("pragma");
    })
    .await;
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_corrupt_rows_are_named() {
    let Some((checkpoints, _store)) = postgres().await else {
        return skipped("corrupt rows are named on PostgreSQL");
    };
    let pool = checkpoints.pool().clone();
    sqlx::query(
        "ALTER TABLE aggregato_checkpoints DROP CONSTRAINT aggregato_checkpoints_status_check, \
         DROP CONSTRAINT aggregato_checkpoints_counts_check",
    )
    .execute(&pool)
    .await
    .expect("set the checks aside");
    corrupt_rows_are_named(&checkpoints, async |sql| {
        sqlx::query(sql).execute(&pool).await.expect("plant a row");
    })
    .await;
}

/// The checkpoint stores' `migrate` runs the event store's migrations, already applied here:
/// nothing to do, and no error.
#[tokio::test]
async fn sqlite_migrate_is_idempotent() {
    let (checkpoints, _store) = sqlite().await;
    checkpoints.migrate().await.expect("migrate again");
    checkpoints.migrate().await.expect("and again");
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_migrate_is_idempotent() {
    let Some((checkpoints, _store)) = postgres().await else {
        return skipped("migrate is idempotent on PostgreSQL");
    };
    checkpoints.migrate().await.expect("migrate again");
    checkpoints.migrate().await.expect("and again");
}

/// `head_position`: 0 for an empty log, then the newest event's position.
async fn head_position_is_the_newest_position<S: EventStore + ?Sized>(store: &S) {
    assert_eq!(store.head_position().await.expect("head"), Some(0));
    store
        .append("Head-1", ExpectedVersion::Any, vec![sample_event(1)])
        .await
        .expect("append");
    store
        .append(
            "Head-2",
            ExpectedVersion::Any,
            vec![sample_event(2), sample_event(3)],
        )
        .await
        .expect("append");
    assert_eq!(store.head_position().await.expect("head"), Some(3));
}

#[tokio::test]
async fn sqlite_head_position_is_the_newest_position() {
    let store = sqlite_store().await;
    head_position_is_the_newest_position(&*store).await;
}

#[tokio::test]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_head_position_is_the_newest_position() {
    let Some(store) = postgres_store().await else {
        return skipped("head_position on PostgreSQL");
    };
    head_position_is_the_newest_position(&*store).await;
}

/// First claims of several versions of one projection at once: exactly one version ends up
/// active (the partial unique index settles the race, and the losers' claims are retried as
/// inactive versions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
async fn postgres_racing_first_claims_leave_one_active_version() {
    let Some((checkpoints, _store)) = postgres().await else {
        return skipped("racing first claims on PostgreSQL");
    };
    let claims = (1..=4).map(|version| {
        let checkpoints = checkpoints.clone();
        tokio::spawn(async move {
            let key = ProjectionKey::new("racing", version);
            checkpoints.claim(&key, Uuid::now_v7(), LONG_LEASE).await
        })
    });
    let mut active = 0;
    for claim in claims.collect::<Vec<_>>() {
        let claim = claim.await.expect("join").expect("claim").expect("granted");
        active += usize::from(claim.active);
    }
    assert_eq!(active, 1, "exactly one of the racing versions is active");
    assert!(
        checkpoints
            .active_version("racing")
            .await
            .expect("active")
            .is_some()
    );
}

/// SQLite: a claim while a frozen runner's batch holds the file's write lock waits for the
/// pool's busy timeout (5 s here), then answers "not claimed" rather than failing; once the
/// batch is gone it is granted.
#[tokio::test]
async fn sqlite_a_claim_behind_a_frozen_batch_is_not_granted() {
    let (checkpoints, _store) = sqlite().await;
    let key = ProjectionKey::new("frozen", 1);
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    let frozen = checkpoints
        .claim(&key, a, SHORT_LEASE)
        .await
        .expect("claim")
        .expect("granted");
    let mut batch = checkpoints.begin().await.expect("begin");
    checkpoints
        .advance(&mut batch, &frozen, 0, 1, SHORT_LEASE)
        .await
        .expect("advance");
    tokio::time::sleep(PAST_SHORT_LEASE).await;
    let claimed = tokio::time::timeout(
        Duration::from_secs(20),
        checkpoints.claim(&key, b, LONG_LEASE),
    )
    .await
    .expect("the claim gives up after the busy timeout");
    assert_eq!(claimed.expect("not an error"), None);
    checkpoints.rollback(batch).await.expect("rollback");
    let taken = checkpoints
        .claim(&key, b, LONG_LEASE)
        .await
        .expect("claim")
        .expect("granted once the batch is gone");
    assert_eq!(taken.epoch, frozen.epoch + 1);
}
