//! [`CachedKeyStore`]: keys kept in memory for a bounded time, so a forget made by another
//! process is seen within that bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Erasure, KeyLookup, KeyStore, Rotation, SubjectKey};
use crate::privacy::{MasterKey, PrivacyError, Subject};

/// How stale a cached answer may be by default.
pub const DEFAULT_STALENESS: Duration = Duration::from_secs(1);
/// How many answers are cached by default.
const DEFAULT_CAPACITY: usize = 100_000;

/// A [`KeyStore`] that remembers the answers of another for at most a staleness bound (one
/// second by default), so most reads and writes of a busy process make no database round
/// trip, and a subject forgotten by *another* process stops decrypting here within the bound.
///
/// - An answer's age counts from the moment its lookup *started*, so a lookup that ran
///   across a forget elsewhere is not kept longer than the bound.
/// - A `forget`, `re_register` or rotation through this cache empties it at once, and an
///   answer whose lookup began before one of them is not stored (a lookup racing a forget
///   cannot put the forgotten key back).
/// - Errors are never cached.
#[derive(Debug)]
pub struct CachedKeyStore<K> {
    inner: K,
    staleness: Duration,
    capacity: usize,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    /// Bumped by every change made through this cache; a lookup started under an older epoch
    /// is not stored.
    epoch: u64,
    reads: HashMap<(Subject, u32), (Instant, KeyLookup)>,
    writes: HashMap<Subject, (Instant, SubjectKey)>,
}

impl<K: KeyStore> CachedKeyStore<K> {
    /// `inner` behind a cache with the default bound ([`DEFAULT_STALENESS`], one second).
    pub fn new(inner: K) -> Self {
        Self {
            inner,
            staleness: DEFAULT_STALENESS,
            capacity: DEFAULT_CAPACITY,
            cache: Mutex::default(),
        }
    }

    /// Keeps answers for at most `staleness`: how long a forget made elsewhere may go
    /// unseen here.
    pub fn with_staleness(mut self, staleness: Duration) -> Self {
        self.staleness = staleness;
        self
    }

    /// Keeps at most `capacity` answers of each kind (100,000 by default); when full, expired
    /// answers are dropped, then all of them.
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// The store behind the cache.
    pub fn inner(&self) -> &K {
        &self.inner
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache is only ever a copy of the store: after a panic elsewhere it is still
        // consistent enough to use, and emptied on the next change.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh(&self, fetched: Instant) -> bool {
        fetched.elapsed() < self.staleness
    }

    /// Empties the cache and makes lookups in flight unstorable.
    fn invalidate(&self) {
        let mut cache = self.lock();
        cache.epoch += 1;
        cache.reads.clear();
        cache.writes.clear();
    }
}

/// Makes room in `map` for one more entry.
fn make_room<Q: std::hash::Hash + Eq, V>(
    map: &mut HashMap<Q, (Instant, V)>,
    capacity: usize,
    staleness: Duration,
) {
    if map.len() >= capacity {
        map.retain(|_, (fetched, _)| fetched.elapsed() < staleness);
        if map.len() >= capacity {
            map.clear();
        }
    }
}

#[async_trait]
impl<K: KeyStore> KeyStore for CachedKeyStore<K> {
    async fn key_for_write(&self, subject: &Subject) -> Result<SubjectKey, PrivacyError> {
        let epoch = {
            let cache = self.lock();
            if let Some((fetched, key)) = cache.writes.get(subject)
                && self.fresh(*fetched)
            {
                return Ok(key.clone());
            }
            cache.epoch
        };
        let started = Instant::now();
        let key = self.inner.key_for_write(subject).await?;
        let mut cache = self.lock();
        if cache.epoch == epoch {
            make_room(&mut cache.writes, self.capacity, self.staleness);
            cache.writes.insert(subject.clone(), (started, key.clone()));
        }
        Ok(key)
    }

    async fn key_for_read(
        &self,
        subject: &Subject,
        generation: u32,
    ) -> Result<KeyLookup, PrivacyError> {
        let slot = (subject.clone(), generation);
        let epoch = {
            let cache = self.lock();
            if let Some((fetched, lookup)) = cache.reads.get(&slot)
                && self.fresh(*fetched)
            {
                return Ok(lookup.clone());
            }
            cache.epoch
        };
        let started = Instant::now();
        let lookup = self.inner.key_for_read(subject, generation).await?;
        let mut cache = self.lock();
        if cache.epoch == epoch {
            make_room(&mut cache.reads, self.capacity, self.staleness);
            cache.reads.insert(slot, (started, lookup.clone()));
        }
        Ok(lookup)
    }

    async fn forget(&self, subject: &Subject) -> Result<Erasure, PrivacyError> {
        // Before and after: nothing cached before the forget outlives it here, and nothing
        // fetched while it ran is stored.
        self.invalidate();
        let erasure = self.inner.forget(subject).await;
        self.invalidate();
        erasure
    }

    async fn re_register(&self, subject: &Subject) -> Result<SubjectKey, PrivacyError> {
        let key = self.inner.re_register(subject).await;
        self.invalidate();
        key
    }

    async fn rotate_master_key(&self, new: Arc<dyn MasterKey>) -> Result<Rotation, PrivacyError> {
        let rotation = self.inner.rotate_master_key(new).await;
        self.invalidate();
        rotation
    }
}
