//! Where a projection's checkpoint, claim and failures are kept, and the transaction its read
//! model is written in.

use std::future::Future;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::ProjectionError;

/// Which projection a checkpoint belongs to: its name and version. Each version of a
/// projection has its own checkpoint, so a new version can be built beside the old one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectionKey {
    /// The projection's name ([`Projection::NAME`](super::Projection::NAME)).
    pub name: String,
    /// Its version ([`Projection::VERSION`](super::Projection::VERSION)).
    pub version: u32,
}

impl ProjectionKey {
    /// The key of version `version` of projection `name`.
    pub fn new(name: impl Into<String>, version: u32) -> Self {
        Self {
            name: name.into(),
            version,
        }
    }
}

impl std::fmt::Display for ProjectionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} v{}", self.name, self.version)
    }
}

/// Where a projection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// It runs (or will when a runner claims it).
    Running,
    /// An event kept failing: the projection stopped before it ([`ProjectionState::failure`]
    /// names it). The next run starts with that event again.
    Failed,
    /// A newer version of the projection took over; this one is not run any more.
    Retired,
}

impl Status {
    /// The name the SQL stores keep it under.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Failed => "failed",
            Self::Retired => "retired",
        }
    }

    /// The status stored under `name`, if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "running" => Some(Self::Running),
            "failed" => Some(Self::Failed),
            "retired" => Some(Self::Retired),
            _ => None,
        }
    }
}

/// A runner's hold on a projection: while its lease lasts no other runner takes it, and every
/// checkpoint write checks its epoch, so once another runner has taken over (a higher epoch),
/// this one cannot commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The projection claimed.
    pub key: ProjectionKey,
    /// The claiming runner.
    pub owner: Uuid,
    /// Raised by every takeover; the fence of every checkpoint write.
    pub epoch: u64,
    /// The checkpoint: the position of the last event handled (0: none).
    pub position: u64,
    /// Events up to this position are replays: a rebuild, or a new version catching up
    /// with what an earlier one handled.
    pub replay_until: u64,
    /// Whether this version is the one queries read.
    pub active: bool,
    /// Its status when claimed.
    pub status: Status,
}

/// The event a projection stopped at, or dead-lettered, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Its global position.
    pub position: u64,
    /// Its id.
    pub event_id: Uuid,
    /// Its stream.
    pub stream_id: String,
    /// Its version in the stream.
    pub version: u64,
    /// Its stored name.
    pub event_type: String,
    /// The handler's last error (or why it could not be decoded).
    pub error: String,
    /// How many attempts were made.
    pub attempts: u32,
    /// When it was given up on.
    pub failed_at: OffsetDateTime,
}

/// An event a projection declared with `dead_letter` gave up on and went past.
pub type DeadLetter = Failure;

/// Everything known about one projection's checkpoint: for dashboards, health checks and
/// tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionState {
    /// The projection.
    pub key: ProjectionKey,
    /// Its checkpoint.
    pub position: u64,
    /// The epoch of the latest claim.
    pub epoch: u64,
    /// The runner holding (or last holding) it.
    pub owner: Option<Uuid>,
    /// When the owner's lease ends (or ended).
    pub lease_until: Option<OffsetDateTime>,
    /// Where it stands.
    pub status: Status,
    /// Whether this version is the one queries read.
    pub active: bool,
    /// Events up to this position are replays.
    pub replay_until: u64,
    /// The event it stopped at, when [`Status::Failed`].
    pub failure: Option<Failure>,
}

/// Keeps projection checkpoints, claims and failures, and opens the transactions read models
/// are written in.
///
/// The SQL implementations (`postgres::PostgresCheckpoints`, `sqlite::SqliteCheckpoints`)
/// keep them in the read model's database, so a batch's writes and its checkpoint commit
/// together: exactly once. [`InMemoryCheckpoints`](super::InMemoryCheckpoints) keeps them in
/// memory, for read models that live there, in tests, and for at-least-once targets.
///
/// Every write that moves a checkpoint is fenced: it names the claim's owner and epoch and the
/// position it expects, and fails with [`ProjectionError::Fenced`] (changing nothing) when any
/// of them no longer holds.
pub trait CheckpointStore: Send + Sync + 'static {
    /// What handlers write through (`sqlx::PgConnection`, `sqlx::SqliteConnection`, `()`).
    type Transaction: Send;
    /// An open transaction.
    type Batch: Send;
    /// Whether rolling a batch back undoes what its handlers wrote (`true` when they write
    /// through [`Transaction`](Self::Transaction), as on the SQL stores). When it does not,
    /// the runner never hands a handled event to a handler again in the same process: after a
    /// failure it commits the checkpoint past the events handled before the failing one.
    const ROLLS_BACK_HANDLERS: bool = true;

    /// Claims `key` for `owner` for `lease`, if nobody else holds it: no claim yet, the
    /// holder's lease has run out, or `owner` holds it already. A claim by a new owner
    /// raises the epoch. The first claim of a version creates its checkpoint at position 0;
    /// when another version of the projection is active, the new version starts inactive,
    /// replaying up to that version's position. `None`: another runner holds it.
    fn claim(
        &self,
        key: &ProjectionKey,
        owner: Uuid,
        lease: Duration,
    ) -> impl Future<Output = Result<Option<Claim>, ProjectionError>> + Send;

    /// Extends the claim's lease; `false` when the claim is lost (another owner or epoch) or
    /// its version was retired (a newer one took over).
    fn renew(
        &self,
        claim: &Claim,
        lease: Duration,
    ) -> impl Future<Output = Result<bool, ProjectionError>> + Send;

    /// Gives the claim up, so another runner can take over at once.
    fn release(&self, claim: &Claim) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Opens a transaction.
    fn begin(&self) -> impl Future<Output = Result<Self::Batch, ProjectionError>> + Send;

    /// What the handlers of `batch` write through.
    fn transaction(batch: &mut Self::Batch) -> &mut Self::Transaction;

    /// Moves the checkpoint from `from` to `to` in `batch`, extending the lease, and marks the
    /// projection running: fenced by the claim's owner and epoch and by `from`.
    fn advance(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
        from: u64,
        to: u64,
        lease: Duration,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Records `letter` in the dead-letter table of `key`, in `batch`.
    fn dead_letter(
        &self,
        batch: &mut Self::Batch,
        key: &ProjectionKey,
        letter: &DeadLetter,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Sets the checkpoint back to 0 in `batch` for a rebuild, fenced as
    /// [`advance`](Self::advance) is (with `from` the current checkpoint); events up to `from`
    /// become replays.
    fn rewind(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
        from: u64,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Makes the claimed version the active one in `batch`, and retires the projection's
    /// other versions; fenced by the claim's owner and epoch.
    fn activate(
        &self,
        batch: &mut Self::Batch,
        claim: &Claim,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Commits `batch`.
    fn commit(
        &self,
        batch: Self::Batch,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Rolls `batch` back.
    fn rollback(
        &self,
        batch: Self::Batch,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Stops the claimed projection in the failed state at `failure`, fenced by the claim's
    /// owner and epoch; the checkpoint stays where it is.
    fn mark_failed(
        &self,
        claim: &Claim,
        failure: &Failure,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// The state of `key`'s checkpoint, if it has one.
    fn state(
        &self,
        key: &ProjectionKey,
    ) -> impl Future<Output = Result<Option<ProjectionState>, ProjectionError>> + Send;

    /// The events `key` dead-lettered, in position order.
    fn dead_letters(
        &self,
        key: &ProjectionKey,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, ProjectionError>> + Send;

    /// The version of projection `name` that queries read, if any is active.
    fn active_version(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<u32>, ProjectionError>> + Send;
}
