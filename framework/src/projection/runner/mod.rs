//! The runner: claims a projection, catches up from its checkpoint, then follows the log.

mod live;
mod page;
mod progress;

use std::fmt;
use std::time::{Duration, Instant};

use uuid::Uuid;

pub use progress::Progress;
use progress::Tracker;

use super::{CheckpointStore, Claim, Projection, ProjectionError, ProjectionKey, Status};
use crate::retry::RetryPolicy;
use crate::store::{EventFilter, EventStore};

/// How many events one batch (one transaction) holds unless configured otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// The fewest events one read of the log fetches: a small batch size sets how often a
/// transaction commits, not how often the log is read.
pub const MIN_READ_SIZE: usize = 512;
/// How long a claim lasts without renewal unless configured otherwise: the longest a dead
/// runner keeps its projection from the others.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// Why [`ProjectionRunner::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The shutdown future completed; the claim was given up so another runner can take over
    /// at once.
    Shutdown,
    /// A newer version of the projection is active: this one is not run any more.
    Retired,
}

struct Config {
    batch_size: usize,
    lease: Duration,
    claim_interval: Duration,
    poll_interval: Duration,
    retry: RetryPolicy,
}

type ProgressCallback = Box<dyn FnMut(&Progress) + Send>;

/// Feeds a [`Projection`] from an [`EventStore`], keeping its checkpoint in a
/// [`CheckpointStore`].
///
/// Several runners of the same projection, in one process or many, share the work safely:
/// one holds the claim and runs, the others wait on standby and take over within the lease
/// (plus the claim interval) after it dies. Every batch commits its checkpoint fenced by the
/// claim's epoch, so a runner that was paused past its lease and resumes cannot commit.
///
/// ```
/// # use aggregato::prelude::*;
/// # use aggregato::projection::{Context, InMemoryCheckpoints};
/// # use serde::{Deserialize, Serialize};
/// # use std::sync::Arc;
/// # #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, DomainEvent)]
/// # pub struct Added { pub n: u64 }
/// # #[derive(Debug, Clone, Command)]
/// # #[command(aggregate = Tally)]
/// # pub struct Add { pub n: u64 }
/// # #[derive(Debug, Default, Aggregate)]
/// # #[aggregate(id = String, events(Added), commands(Add))]
/// # pub struct Tally { pub total: u64 }
/// # impl Handle<Add> for Tally {
/// #     async fn handle(&self, c: Add, _: &()) -> Result<Vec<TallyEvent>, std::convert::Infallible> {
/// #         Ok(vec![Added { n: c.n }.into()])
/// #     }
/// # }
/// # impl Apply<Added> for Tally { fn apply(&mut self, e: &Added) { self.total += e.n; } }
/// #[derive(Default, Projection)]
/// #[projection(events(Added))]
/// struct GrandTotal {
///     total: u64,
/// }
///
/// impl Project<Added> for GrandTotal {
///     async fn project(&mut self, event: Added, _: &mut Context<'_, ()>) -> Result<(), aggregato::projection::BoxError> {
///         self.total += event.n;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(InMemoryEventStore::new());
/// let tallies = Repository::<Tally, _>::new(Arc::clone(&store));
/// tallies.execute(&"a".to_owned(), Add { n: 2 }).await?;
/// tallies.execute(&"b".to_owned(), Add { n: 3 }).await?;
///
/// let mut runner = ProjectionRunner::new(store, InMemoryCheckpoints::new(), GrandTotal::default());
/// let progress = runner.catch_up().await?;
/// assert_eq!((runner.projection().total, progress.position), (5, 2));
/// # Ok(())
/// # }
/// ```
pub struct ProjectionRunner<S, C, P> {
    store: S,
    checkpoints: C,
    projection: P,
    key: ProjectionKey,
    filter: EventFilter,
    owner: Uuid,
    config: Config,
    claim: Option<Claim>,
    tracker: Option<Tracker>,
    /// When the lease was last extended (a claim, a renewal, a commit).
    renewed_at: Option<Instant>,
    on_progress: Option<ProgressCallback>,
}

impl<S, C, P> ProjectionRunner<S, C, P>
where
    S: EventStore,
    C: CheckpointStore<Transaction = P::Transaction>,
    P: Projection,
{
    /// A runner of `projection`, reading `store` and keeping its checkpoint in `checkpoints`,
    /// under a new owner id.
    pub fn new(store: S, checkpoints: C, projection: P) -> Self {
        Self {
            store,
            checkpoints,
            projection,
            key: ProjectionKey::new(P::NAME, P::VERSION),
            filter: P::filter(),
            owner: Uuid::now_v7(),
            config: Config {
                batch_size: DEFAULT_BATCH_SIZE,
                lease: DEFAULT_LEASE,
                claim_interval: Duration::from_secs(1),
                poll_interval: Duration::from_millis(100),
                retry: RetryPolicy::exponential(
                    5,
                    Duration::from_millis(100),
                    Duration::from_secs(5),
                ),
            },
            claim: None,
            tracker: None,
            renewed_at: None,
            on_progress: None,
        }
    }

    /// Sets how many events one transaction holds (at least 1): the checkpoint is written,
    /// and the read model's writes committed, once per batch. The log is read in pages of at
    /// least [`MIN_READ_SIZE`] events either way.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.config.batch_size = batch_size.max(1);
        self
    }

    /// Sets how long a claim lasts without renewal: another runner takes over at most this
    /// long (plus its claim interval) after this one dies. A batch should take less.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.config.lease = lease;
        self
    }

    /// Sets how often a runner on standby tries to claim the projection.
    pub fn with_claim_interval(mut self, interval: Duration) -> Self {
        self.config.claim_interval = interval;
        self
    }

    /// Sets how long a caught-up runner waits between polls of the log (a store's wake-up
    /// hint ends the wait sooner).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.config.poll_interval = interval;
        self
    }

    /// Sets how a failing event is retried before the projection gives up on it
    /// (by default: 5 attempts, waiting 100 ms, then doubling up to 5 s).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Keeps the checkpoint under `name` instead of the projection's
    /// [`NAME`](Projection::NAME): for several instances of one projection type (outbox
    /// publishers to different brokers, say), each with its own checkpoint.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.key.name = name.into();
        self
    }

    /// Reads the events `filter` lets through instead of the projection's own
    /// [`filter`](Projection::filter): for a projection of raw events (an outbox publisher)
    /// that serves different event sets.
    pub fn with_filter(mut self, filter: EventFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Sets the owner id this runner claims under (a new UUID v7 by default). Two runners
    /// must not share one.
    pub fn with_owner(mut self, owner: Uuid) -> Self {
        self.owner = owner;
        self
    }

    /// Calls `callback` after every committed batch, and when the run has caught up: to drive
    /// a progress bar, say. The same figures go to `tracing` (at `info`, at most once a
    /// second while catching up).
    pub fn on_progress(mut self, callback: impl FnMut(&Progress) + Send + 'static) -> Self {
        self.on_progress = Some(Box::new(callback));
        self
    }

    /// The projection's name and version.
    pub fn key(&self) -> &ProjectionKey {
        &self.key
    }

    /// The id this runner claims under.
    pub fn owner(&self) -> Uuid {
        self.owner
    }

    /// The claim held, if any.
    pub fn claim(&self) -> Option<&Claim> {
        self.claim.as_ref()
    }

    /// The projection.
    pub fn projection(&self) -> &P {
        &self.projection
    }

    /// The projection, mutably.
    pub fn projection_mut(&mut self) -> &mut P {
        &mut self.projection
    }

    /// The projection, the runner dropped (its claim is not given up: see
    /// [`release`](Self::release)).
    pub fn into_projection(self) -> P {
        self.projection
    }

    /// The checkpoint store.
    pub fn checkpoints(&self) -> &C {
        &self.checkpoints
    }

    /// The event store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Claims the projection if it is free, handles every event after its checkpoint, and
    /// returns where it stands; the claim is kept for the next call. A version that is not
    /// active yet becomes the active one once it has caught up.
    ///
    /// Fails with [`ProjectionError::Held`] when another runner holds the projection.
    pub async fn catch_up(&mut self) -> Result<Progress, ProjectionError> {
        self.claim_now().await?;
        loop {
            if !self.step().await? {
                return self.caught_up().await;
            }
        }
    }

    /// Rebuilds the projection: in one transaction, empties the read model (its `reset`) and
    /// sets the checkpoint back to 0, then replays the whole log, reporting progress. Events
    /// up to the old checkpoint are handed out as replays ([`Context::is_replay`](crate::projection::Context::is_replay)).
    ///
    /// A rebuild that is interrupted goes on from where it stopped on the next run: the reset
    /// and the checkpoint commit together, and so does every batch after.
    pub async fn rebuild(&mut self) -> Result<Progress, ProjectionError> {
        if !P::RESETTABLE {
            return Err(ProjectionError::NotResettable {
                projection: self.key.clone(),
            });
        }
        let claim = self.claim_now().await?;
        let from = claim.position;
        let mut batch = self.checkpoints.begin().await?;
        if let Err(error) = self.projection.reset(C::transaction(&mut batch)).await {
            page::roll_back(&self.checkpoints, &self.key, batch).await;
            return Err(ProjectionError::hook_failed(
                &self.key,
                "reset",
                error.into(),
            ));
        }
        if let Err(error) = self.checkpoints.rewind(&mut batch, &claim, from).await {
            page::roll_back(&self.checkpoints, &self.key, batch).await;
            return Err(error);
        }
        self.checkpoints.commit(batch).await?;
        if let Some(claim) = &mut self.claim {
            claim.position = 0;
            claim.replay_until = claim.replay_until.max(from);
        }
        tracing::info!(projection = %self.key, from, "projection reset for a rebuild");
        self.tracker = None;
        self.catch_up().await
    }

    /// Gives up the claim, so another runner can take over at once.
    pub async fn release(&mut self) -> Result<(), ProjectionError> {
        if let Some(claim) = self.claim.take() {
            self.checkpoints.release(&claim).await?;
        }
        Ok(())
    }

    /// Claims the projection once; an error if another runner holds it or it is retired.
    async fn claim_now(&mut self) -> Result<Claim, ProjectionError> {
        match self.try_claim().await? {
            Some(claim) => Ok(claim),
            None => Err(ProjectionError::Held {
                projection: self.key.clone(),
            }),
        }
    }

    async fn try_claim(&mut self) -> Result<Option<Claim>, ProjectionError> {
        let Some(claim) = self
            .checkpoints
            .claim(&self.key, self.owner, self.config.lease)
            .await?
        else {
            return Ok(None);
        };
        if claim.status == Status::Retired {
            self.checkpoints.release(&claim).await?;
            return Err(ProjectionError::Retired {
                projection: self.key.clone(),
            });
        }
        if self
            .claim
            .as_ref()
            .is_none_or(|held| held.epoch != claim.epoch)
        {
            tracing::info!(projection = %self.key, owner = %self.owner, epoch = claim.epoch, position = claim.position, "projection claimed");
            self.tracker = None;
        }
        self.claim = Some(claim.clone());
        self.renewed_at = Some(Instant::now());
        Ok(Some(claim))
    }

    /// Reads the next page after the checkpoint and handles it; `false` when there was none.
    async fn step(&mut self) -> Result<bool, ProjectionError> {
        let Some(claim) = &self.claim else {
            return Err(self.not_claimed());
        };
        let after = claim.position;
        if self.tracker.as_ref().is_none_or(Tracker::head_is_stale) {
            let head =
                self.store
                    .head_position()
                    .await
                    .map_err(|source| ProjectionError::Store {
                        projection: self.key.clone(),
                        source: Box::new(source),
                    })?;
            match &mut self.tracker {
                Some(tracker) => tracker.progress.head = head,
                None => self.tracker = Some(Tracker::new(after, head)),
            }
        }
        let items = Self::read_page(
            &self.store,
            &self.filter,
            self.config.batch_size.max(MIN_READ_SIZE),
            &self.key,
            after,
        )
        .await?;
        if items.is_empty() {
            return Ok(false);
        }
        for batch in items.chunks(self.config.batch_size) {
            self.handle_batch(batch).await?;
        }
        Ok(true)
    }

    /// The run reached the end of the log: activates a version that is not active yet, and
    /// reports the progress.
    async fn caught_up(&mut self) -> Result<Progress, ProjectionError> {
        let Some(claim) = self.claim.clone() else {
            return Err(self.not_claimed());
        };
        if !claim.active {
            let mut batch = self.checkpoints.begin().await?;
            if let Err(error) = self.projection.activate(C::transaction(&mut batch)).await {
                page::roll_back(&self.checkpoints, &self.key, batch).await;
                return Err(ProjectionError::hook_failed(
                    &self.key,
                    "activate",
                    error.into(),
                ));
            }
            if let Err(error) = self.checkpoints.activate(&mut batch, &claim).await {
                page::roll_back(&self.checkpoints, &self.key, batch).await;
                return Err(error);
            }
            self.checkpoints.commit(batch).await?;
            if let Some(claim) = &mut self.claim {
                claim.active = true;
            }
            tracing::info!(projection = %self.key, position = claim.position, "projection version caught up and activated");
        }
        let tracker = self
            .tracker
            .get_or_insert_with(|| Tracker::new(claim.position, None));
        let newly = !tracker.progress.caught_up;
        tracker.progress.caught_up = true;
        if newly {
            tracker.log(&self.key.name);
            if let Some(callback) = &mut self.on_progress {
                callback(&tracker.progress);
            }
        }
        Ok(tracker.progress.clone())
    }

    /// Records a committed batch: the claim's checkpoint, progress, the lease it renewed.
    fn committed(&mut self, position: u64, handled: u64, replaying: bool) {
        if let Some(claim) = &mut self.claim {
            claim.position = position;
        }
        self.renewed_at = Some(Instant::now());
        let tracker = self
            .tracker
            .get_or_insert_with(|| Tracker::new(position, None));
        tracker.committed(position, handled, replaying);
        tracker.log(&self.key.name);
        if let Some(callback) = &mut self.on_progress {
            callback(&tracker.progress);
        }
    }

    fn not_claimed(&self) -> ProjectionError {
        ProjectionError::Held {
            projection: self.key.clone(),
        }
    }
}

impl<S: fmt::Debug, C: fmt::Debug, P: fmt::Debug> fmt::Debug for ProjectionRunner<S, C, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProjectionRunner")
            .field("store", &self.store)
            .field("checkpoints", &self.checkpoints)
            .field("projection", &self.projection)
            .field("key", &self.key)
            .field("owner", &self.owner)
            .field("batch_size", &self.config.batch_size)
            .field("lease", &self.config.lease)
            .field("claim", &self.claim)
            .finish_non_exhaustive()
    }
}
