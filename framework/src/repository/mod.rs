//! The repository: load an aggregate from its stream, let it decide, append what it decided
//! under optimistic concurrency, and retry when another writer got there first.

mod cache;
mod error;
mod execute;
mod idempotency;
mod replay;
mod snapshots;

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aggregate::Aggregate;
use crate::checks::CommandOf;
use crate::event::{EventEnvelope, Metadata, NewEvent};
use crate::retry::RetryPolicy;
use crate::root::AggregateRoot;
use crate::store::{EventStore, ExpectedVersion, SnapshotStore};
use crate::trace::short_type_name;
use cache::{Cached, StateCache};
use replay::Replayer;
use snapshots::Snapshots;

pub use error::{RepositoryError, RepositoryResult};

/// Loads and saves aggregates of type `A` in the store `S`.
///
/// Made with [`new`](Repository::new) (an aggregate without services) or
/// [`new_with_services`](Repository::new_with_services), then configured with the `with_*`
/// setters, each taking and returning the repository:
/// [`with_retry_policy`](Repository::with_retry_policy),
/// [`with_snapshots_every`](Repository::with_snapshots_every),
/// [`with_state_cache`](Repository::with_state_cache).
///
/// Cheap to clone: the store and the services are shared.
pub struct Repository<A: Aggregate, S> {
    store: S,
    services: Arc<A::Services>,
    retry: RetryPolicy,
    snapshots: Option<Snapshots<A, S>>,
    cache: Option<Arc<StateCache<A>>>,
}

impl<A: Aggregate, S: Clone> Clone for Repository<A, S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            services: Arc::clone(&self.services),
            retry: self.retry,
            snapshots: self.snapshots,
            cache: self.cache.clone(),
        }
    }
}

impl<A: Aggregate, S: std::fmt::Debug> std::fmt::Debug for Repository<A, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("aggregate", &A::AGGREGATE_TYPE)
            .field("store", &self.store)
            .field("retry", &self.retry)
            .field("snapshots", &self.snapshots)
            .field(
                "state_cache_capacity",
                &self.cache.as_ref().map(|cache| cache.capacity()),
            )
            .finish()
    }
}

impl<A: Aggregate<Services = ()>, S: EventStore> Repository<A, S> {
    /// A repository for an aggregate that needs no services.
    pub fn new(store: S) -> Self {
        Self::new_with_services(store, ())
    }
}

impl<A: Aggregate, S: EventStore> Repository<A, S> {
    /// A repository whose command handlers receive `services`.
    pub fn new_with_services(store: S, services: A::Services) -> Self {
        Self {
            store,
            services: Arc::new(services),
            retry: RetryPolicy::default(),
            snapshots: None,
            cache: None,
        }
    }

    /// Replaces the policy for retrying after a concurrency conflict.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Takes a snapshot of the aggregate's state each time its stream passes a multiple of
    /// `every` events (0 turns snapshots off), and loads from the newest snapshot plus the
    /// events after it.
    ///
    /// The snapshot is the state the command produced, written after its events committed; a
    /// snapshot that fails to store or no longer deserializes is logged with `tracing` and
    /// only costs a full replay. Changing the state's serialized shape is therefore safe: old
    /// snapshots are ignored until new ones are taken.
    ///
    /// Every built-in store is a [`SnapshotStore`]; what it keeps is a
    /// [`Snapshot`](crate::store::Snapshot), which
    /// [`SnapshotStore::load_snapshot`] reads back for inspection.
    pub fn with_snapshots_every(mut self, every: u64) -> Self
    where
        A: Serialize + DeserializeOwned,
        S: SnapshotStore,
    {
        self.snapshots = (every > 0).then(|| Snapshots::every(every));
        self
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The services handed to command handlers.
    pub fn services(&self) -> &A::Services {
        &self.services
    }

    /// Rebuilds the instance `id` from its stream (starting from the newest snapshot when
    /// snapshots are on). A stream that does not exist gives the default state at version 0.
    pub async fn load(&self, id: &A::Id) -> RepositoryResult<AggregateRoot<A>, A> {
        let stream = A::stream_id(id);
        if let Some(snapshots) = &self.snapshots
            && let Some(restored) = snapshots.restore(&self.store, &stream).await?
        {
            // Read from the snapshot's own last event: it must exist, or the snapshot does
            // not belong to this stream as it is now.
            let mut replayer = Replayer::from_snapshot(&stream, restored.state, restored.version);
            self.store
                .replay_stream(&stream, restored.version, &mut |event| {
                    replayer.visit(event)
                })
                .await?;
            if replayer.fits() {
                let (state, version) = replayer.into_parts();
                return Ok(AggregateRoot::from_parts(id.clone(), version, state));
            }
            tracing::warn!(
                %stream,
                version = restored.version,
                "snapshot is ahead of its stream; rebuilding the aggregate from its events"
            );
        }
        let mut replayer = Replayer::<A>::from_start(&stream);
        self.store
            .replay_stream(&stream, 1, &mut |event| replayer.visit(event))
            .await?;
        let (state, version) = replayer.into_parts();
        Ok(AggregateRoot::from_parts(id.clone(), version, state))
    }

    /// Keeps the state of up to `capacity` recently used aggregates in memory (0 turns the
    /// cache off, the default), so a command on a cached aggregate neither reads nor replays
    /// its stream: it decides on the cached state and appends expecting the cached version.
    /// Clones of this repository share the cache.
    ///
    /// Correctness does not depend on the cache being current. If another writer (another
    /// process, or [`Repository::save`]) appended to the stream since, the append fails the
    /// store's version check, and the command is retried once on a fresh load without counting
    /// against the retry policy. A rejection (or a decision to change nothing) on a cached
    /// state is confirmed first with one read of the stream's version: if the stream moved on,
    /// the command is decided again on a fresh load, so a command is never rejected because of
    /// a stale cache. The price is memory (`capacity`
    /// states) and, for a handler that calls services, that such a retried command calls them
    /// twice, as any retry after a conflict does. The least recently used states are evicted
    /// when the cache is full.
    pub fn with_state_cache(mut self, capacity: usize) -> Self {
        self.cache = (capacity > 0).then(|| Arc::new(StateCache::new(capacity)));
        self
    }

    /// Executes `command` on the instance `id` with empty metadata.
    /// See [`Repository::execute_with_metadata`].
    pub async fn execute<C: CommandOf<A>>(
        &self,
        id: &A::Id,
        command: C,
    ) -> RepositoryResult<Vec<EventEnvelope<A::Event>>, A> {
        let name = short_type_name::<C>();
        self.run(id, command.into(), name, Metadata::default(), None)
            .await
    }

    /// Loads `id`, lets it handle `command`, and appends the events it produced expecting the
    /// version it was loaded at; `metadata` lands on every event. On a concurrency conflict it
    /// starts over from the load, as the retry policy allows. Returns the committed events
    /// (none when the command changed nothing).
    ///
    /// The command has an id: the causation id `metadata` brings (the id of the message that
    /// asked for it, or one the caller chose), else a fresh UUID v7. Its events carry it as
    /// their causation id, and as their correlation id unless `metadata` brings one (the
    /// correlation of whatever caused the command, inherited).
    ///
    /// With a state cache ([`Repository::with_state_cache`]) the load is skipped when the
    /// aggregate is cached.
    pub async fn execute_with_metadata<C: CommandOf<A>>(
        &self,
        id: &A::Id,
        command: C,
        metadata: Metadata,
    ) -> RepositoryResult<Vec<EventEnvelope<A::Event>>, A> {
        let name = short_type_name::<C>();
        self.run(id, command.into(), name, metadata, None).await
    }

    /// [`Repository::execute_with_metadata`] made idempotent by `key` (a request id, a saga
    /// step's [`StepKey`](crate::saga::StepKey)): its events' ids, and the command's id unless
    /// `metadata` brings one, derive from the key and the stream (name-based UUIDs), so if a command under this key was
    /// committed before (a client retrying after a timeout whose append did commit), its
    /// stored events come back and nothing runs again: no second copy, whichever process or
    /// cached state the retry meets. Two executions racing under one key store one batch.
    ///
    /// A command under the key that stored nothing (rejected, or changing nothing) left no
    /// trace: it runs again. Keys are per stream: the same key on another instance is another
    /// command.
    pub async fn execute_idempotent<C: CommandOf<A>>(
        &self,
        id: &A::Id,
        command: C,
        key: &str,
        metadata: Metadata,
    ) -> RepositoryResult<Vec<EventEnvelope<A::Event>>, A> {
        let name = short_type_name::<C>();
        self.run(id, command.into(), name, metadata, Some(key))
            .await
    }

    /// Appends the uncommitted events of `root`, expecting the version it was loaded at, and
    /// marks them committed. No retry: a conflict comes back as an error. A state cache entry
    /// for the aggregate is dropped, as it is now behind.
    pub async fn save(
        &self,
        root: &mut AggregateRoot<A>,
        metadata: Metadata,
    ) -> RepositoryResult<Vec<EventEnvelope<A::Event>>, A> {
        let stream = A::stream_id(root.id());
        let saved = self.append_uncommitted(&stream, root, &metadata).await;
        if let Some(cache) = &self.cache {
            cache.forget(&stream);
        }
        saved
    }

    /// [`Repository::save`] without touching the cache.
    async fn append_uncommitted(
        &self,
        stream: &str,
        root: &mut AggregateRoot<A>,
        metadata: &Metadata,
    ) -> RepositoryResult<Vec<EventEnvelope<A::Event>>, A> {
        refuse_other_instances::<A>(stream, root.uncommitted())?;
        if root.uncommitted().is_empty() {
            return Ok(Vec::new());
        }
        let new_events =
            root.uncommitted()
                .iter()
                .zip(root.uncommitted_ids())
                .map(|(event, &event_id)| {
                    NewEvent::encode_as(event_id, A::AGGREGATE_TYPE, event, metadata.clone())
                        .map_err(|source| RepositoryError::Encode {
                            event_type: crate::event::EventSet::event_type(event),
                            source,
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
        let expected = ExpectedVersion::Exact(root.loaded_version());
        let recorded = crate::trace::append(&self.store, stream, expected, new_events).await?;
        let (before, after) = (root.loaded_version(), root.version());
        if let Some(snapshots) = &self.snapshots {
            // The state already includes the new events (applied when they were decided);
            // the snapshot is taken as is, never by applying them again.
            let stored_as_decided = recorded.last().map(|event| event.version) == Some(after);
            if stored_as_decided && snapshots.is_due(before, after) {
                snapshots
                    .take(&self.store, stream, after, root.state())
                    .await;
            }
        }
        let events = root.mark_committed();
        Ok(recorded
            .into_iter()
            .zip(events)
            .map(|(envelope, event)| envelope.with_payload(event))
            .collect())
    }

    /// The aggregate a command starts from: the cached state when `use_cache` and there is one
    /// (then `true`), else a load from the store.
    async fn start(
        &self,
        id: &A::Id,
        stream: &str,
        use_cache: bool,
    ) -> RepositoryResult<(AggregateRoot<A>, bool), A> {
        let cache = self.cache.as_ref().filter(|_| use_cache);
        if let Some(Cached { version, state }) = cache.and_then(|cache| cache.take(stream)) {
            return Ok((AggregateRoot::from_parts(id.clone(), version, state), true));
        }
        Ok((self.load(id).await?, false))
    }

    /// Whether `stream` holds events after `version`: a state cached at `version` is behind.
    async fn is_behind(&self, stream: &str, version: u64) -> RepositoryResult<bool, A> {
        Ok(self.store.stream_version(stream).await? > version)
    }

    /// Returns a state that is current as of its version to the cache, if there is one.
    fn keep(&self, stream: String, root: AggregateRoot<A>) {
        if let Some(cache) = &self.cache {
            let version = root.version();
            cache.put(stream, version, root.into_state());
        }
    }
}

/// An error for the first event that names another instance than the one of `stream`.
fn refuse_other_instances<A: Aggregate>(
    stream: &str,
    events: &[A::Event],
) -> RepositoryResult<(), A> {
    let named = events
        .iter()
        .filter_map(A::event_instance)
        .map(A::stream_id)
        .find(|named| named != stream);
    match named {
        Some(named) => Err(RepositoryError::WrongInstance {
            stream: stream.to_owned(),
            named,
        }),
        None => Ok(()),
    }
}

/// Waits out a retry backoff. A zero backoff only yields, so `RetryPolicy::immediate` works
/// on a runtime without tokio's timer.
async fn wait(backoff: std::time::Duration) {
    if backoff.is_zero() {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(backoff).await;
    }
}
