//! The repository's state cache: the state each recently used aggregate was left in by its
//! last command, so the next command on it starts there instead of replaying its stream.
//!
//! The cache is only ever a starting point. A command on a cached state appends expecting the
//! cached version, so a state that another writer has overtaken is caught by the store's
//! concurrency check and never decides anything that gets committed; and a rejection decided
//! on a cached state is confirmed against the stream before it is returned. See
//! [`Repository::with_state_cache`](super::Repository::with_state_cache).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Bounded map from stream id to `(version, state)`, evicting the least recently used.
pub(super) struct StateCache<A> {
    capacity: usize,
    entries: Mutex<Entries<A>>,
}

struct Entries<A> {
    by_stream: HashMap<String, Entry<A>>,
    /// Bumped on every use, so entries can be ordered by recency without a linked list.
    clock: u64,
}

struct Entry<A> {
    version: u64,
    state: A,
    last_used: u64,
}

/// A state taken out of the cache: the aggregate as of `version`.
pub(super) struct Cached<A> {
    pub(super) version: u64,
    pub(super) state: A,
}

impl<A> StateCache<A> {
    /// A cache of at most `capacity` aggregates (at least one).
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: Mutex::new(Entries {
                by_stream: HashMap::new(),
                clock: 0,
            }),
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> MutexGuard<'_, Entries<A>> {
        // The map is never left half-updated (every operation is one map call), so a panic
        // elsewhere while it was held leaves it usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes and returns the cached state of `stream`. The caller owns it while it works on
    /// a command; a concurrent command on the same stream finds nothing and loads from the
    /// store, and the store's version check settles which of the two commits.
    pub(super) fn take(&self, stream: &str) -> Option<Cached<A>> {
        self.lock().by_stream.remove(stream).map(|entry| Cached {
            version: entry.version,
            state: entry.state,
        })
    }

    /// Caches `state` as `stream` at `version`, unless a newer version is already cached.
    pub(super) fn put(&self, stream: String, version: u64, state: A) {
        let mut entries = self.lock();
        entries.clock += 1;
        let now = entries.clock;
        match entries.by_stream.get_mut(&stream) {
            Some(held) if held.version >= version => held.last_used = now,
            Some(held) => {
                *held = Entry {
                    version,
                    state,
                    last_used: now,
                }
            }
            None => {
                if entries.by_stream.len() >= self.capacity {
                    entries.evict_oldest(self.capacity);
                }
                entries.by_stream.insert(
                    stream,
                    Entry {
                        version,
                        state,
                        last_used: now,
                    },
                );
            }
        }
    }

    /// Forgets `stream`, whose cached state is known to be behind.
    pub(super) fn forget(&self, stream: &str) {
        self.lock().by_stream.remove(stream);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().by_stream.len()
    }
}

impl<A> Entries<A> {
    /// Makes room for at least one entry by dropping the least recently used eighth of a full
    /// cache, so the O(n) selection is paid once per `capacity / 8` insertions.
    fn evict_oldest(&mut self, capacity: usize) {
        let evict = (capacity / 8).max(1);
        let mut ages: Vec<u64> = self
            .by_stream
            .values()
            .map(|entry| entry.last_used)
            .collect();
        if ages.len() <= evict {
            self.by_stream.clear();
            return;
        }
        let (_, &mut cutoff, _) = ages.select_nth_unstable(evict - 1);
        self.by_stream.retain(|_, entry| entry.last_used > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_removes_and_put_keeps_the_newest_version() {
        let cache = StateCache::new(4);
        cache.put("s".into(), 2, "two");
        cache.put("s".into(), 1, "one");
        let cached = cache.take("s").map(|cached| (cached.version, cached.state));
        assert_eq!(cached, Some((2, "two")));
        assert!(cache.take("s").is_none());
    }

    #[test]
    fn a_full_cache_evicts_the_least_recently_used() {
        let cache = StateCache::new(8);
        for n in 0..8 {
            cache.put(format!("s{n}"), 1, n);
        }
        // Touch s0 so that s1 is now the oldest.
        cache.put("s0".into(), 1, 0);
        cache.put("s8".into(), 1, 8);
        assert_eq!(cache.len(), 8);
        assert!(cache.take("s1").is_none(), "the oldest entry is evicted");
        assert!(cache.take("s0").is_some(), "a recently used entry stays");
        assert!(cache.take("s8").is_some(), "the new entry is cached");
    }

    #[test]
    fn forget_drops_an_entry() {
        let cache = StateCache::new(2);
        cache.put("s".into(), 1, ());
        cache.forget("s");
        assert!(cache.take("s").is_none());
    }
}
