//! An aggregate instance in memory: its id, the version it was loaded at, its state and the
//! events it produced since.

use uuid::Uuid;

use crate::aggregate::Aggregate;

/// One loaded aggregate instance and the events it produced since it was loaded.
#[derive(Debug)]
pub struct AggregateRoot<A: Aggregate> {
    id: A::Id,
    loaded_version: u64,
    state: A,
    uncommitted: Vec<A::Event>,
    /// The id each uncommitted event will be stored under, chosen when it was decided, so that
    /// saving again after a lost reply sends the same ids and the store recognises the events
    /// it already holds instead of reporting a conflict.
    uncommitted_ids: Vec<Uuid>,
}

impl<A: Aggregate> AggregateRoot<A> {
    /// A fresh instance: version 0, the initial state.
    pub fn new(id: A::Id) -> Self {
        Self::from_parts(id, 0, A::initial_state())
    }

    /// An instance whose `state` was rebuilt from events up to `version`.
    pub fn from_parts(id: A::Id, version: u64, state: A) -> Self {
        Self {
            id,
            loaded_version: version,
            state,
            uncommitted: Vec::new(),
            uncommitted_ids: Vec::new(),
        }
    }

    /// The instance's id.
    pub fn id(&self) -> &A::Id {
        &self.id
    }

    /// The stream version it was loaded at: the expected version of its next append.
    pub fn loaded_version(&self) -> u64 {
        self.loaded_version
    }

    /// The version including uncommitted events.
    pub fn version(&self) -> u64 {
        self.loaded_version + self.uncommitted.len() as u64
    }

    /// The current state, uncommitted events applied.
    pub fn state(&self) -> &A {
        &self.state
    }

    /// Gives up the instance, keeping its state.
    pub fn into_state(self) -> A {
        self.state
    }

    /// The events produced since loading, not yet stored.
    pub fn uncommitted(&self) -> &[A::Event] {
        &self.uncommitted
    }

    /// The ids the uncommitted events will be stored under, in order (UUID v7, chosen when the
    /// events were decided). Saving the same instance twice sends the same ids, so a save
    /// retried after a lost reply returns the events the first one stored.
    pub fn uncommitted_ids(&self) -> &[Uuid] {
        &self.uncommitted_ids
    }

    /// Lets the aggregate decide on `command`; on success applies the events it produced and
    /// keeps them as uncommitted. On a domain error nothing changes.
    pub async fn handle(
        &mut self,
        command: A::Command,
        services: &A::Services,
    ) -> Result<&[A::Event], A::Error> {
        let events = self.state.decide(command, services).await?;
        let first_new = self.uncommitted.len();
        for event in &events {
            self.state.evolve(event);
        }
        self.uncommitted_ids
            .extend(events.iter().map(|_| Uuid::now_v7()));
        self.uncommitted.extend(events);
        Ok(&self.uncommitted[first_new..])
    }

    /// Gives the uncommitted events the ids `id_of(index)` (from 0), in place of the fresh
    /// ones chosen when they were decided: an idempotent command's events get ids derived
    /// from its key.
    pub(crate) fn name_uncommitted_ids(&mut self, id_of: impl Fn(usize) -> Uuid) {
        for (index, id) in self.uncommitted_ids.iter_mut().enumerate() {
            *id = id_of(index);
        }
    }

    /// Takes the uncommitted events, leaving none, and advances the loaded version past them.
    /// Call once they are stored.
    pub fn mark_committed(&mut self) -> Vec<A::Event> {
        self.loaded_version = self.version();
        self.uncommitted_ids.clear();
        std::mem::take(&mut self.uncommitted)
    }
}
