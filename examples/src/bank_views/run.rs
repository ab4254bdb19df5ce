//! Running the SQL bank views on an example's store: catching up, or rebuilding, then reading
//! the tables back. Shared by the `bank` and `rebuild_views` binaries.

use aggregato::projection::postgres::PostgresCheckpoints;
use aggregato::projection::sqlite::SqliteCheckpoints;
use aggregato::projection::{CheckpointStore, Progress, Projection, ProjectionError};
use aggregato::{EventStore, ProjectionRunner};

use super::postgres::{self, PostgresBankViews};
use super::sqlite::{self, SqliteBankViews};
use super::{AccountBalance, DayTotals};
use crate::store::Database;

/// How many events one transaction of the views holds unless a binary says otherwise: the
/// runner's default.
pub const BATCH_SIZE: usize = 100;

/// What to do with the views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Handle the events after the checkpoint.
    CatchUp,
    /// Empty the tables and handle every event again.
    Rebuild,
}

/// Why the views could not be run or read.
#[derive(Debug, thiserror::Error)]
pub enum ViewsError {
    /// Creating or reading the tables failed.
    #[error("the views' tables: {0}")]
    Sql(#[from] sqlx::Error),
    /// The projection failed.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

/// Where the views stand after a run, and what they hold.
#[derive(Debug, Clone)]
pub struct ViewsReport {
    /// The run's progress when it finished.
    pub progress: Progress,
    /// Every account.
    pub balances: Vec<AccountBalance>,
    /// Every day's totals, oldest first.
    pub days: Vec<DayTotals>,
}

/// Creates the views' tables in `database` where missing, runs the views over `store` as
/// `mode` says, `batch_size` events a transaction, with their checkpoint in `database` (so
/// the tables and the checkpoint commit together), calling `on_progress` after every batch,
/// and reads the tables back.
pub async fn run_views<S: EventStore + 'static>(
    store: S,
    database: &Database,
    mode: Mode,
    batch_size: usize,
    on_progress: impl FnMut(&Progress) + Send + 'static,
) -> Result<ViewsReport, ViewsError> {
    match database {
        Database::Sqlite(pool) => {
            sqlite::create_tables(pool).await?;
            let checkpoints = SqliteCheckpoints::new(pool.clone());
            checkpoints.migrate().await?;
            let runner = ProjectionRunner::new(store, checkpoints, SqliteBankViews)
                .with_batch_size(batch_size)
                .on_progress(on_progress);
            let progress = drive(runner, mode).await?;
            Ok(ViewsReport {
                progress,
                balances: sqlite::balances(pool).await?,
                days: sqlite::days(pool).await?,
            })
        }
        Database::Postgres(pool) => {
            postgres::create_tables(pool).await?;
            let checkpoints = PostgresCheckpoints::new(pool.clone());
            checkpoints.migrate().await?;
            let runner = ProjectionRunner::new(store, checkpoints, PostgresBankViews)
                .with_batch_size(batch_size)
                .on_progress(on_progress);
            let progress = drive(runner, mode).await?;
            Ok(ViewsReport {
                progress,
                balances: postgres::balances(pool).await?,
                days: postgres::days(pool).await?,
            })
        }
    }
}

/// Runs `runner` once as `mode` says, and gives its claim up, so the next run (another
/// process, say) need not wait for the lease to run out.
async fn drive<S, C, P>(
    mut runner: ProjectionRunner<S, C, P>,
    mode: Mode,
) -> Result<Progress, ProjectionError>
where
    S: EventStore,
    C: CheckpointStore<Transaction = P::Transaction>,
    P: Projection,
{
    let progress = match mode {
        Mode::CatchUp => runner.catch_up().await,
        Mode::Rebuild => runner.rebuild().await,
    };
    let released = runner.release().await;
    let progress = progress?;
    released?;
    Ok(progress)
}
