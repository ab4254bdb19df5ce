//! The in-memory store against the shared event-store and snapshot-store conformance suites.

aggregato::event_store_conformance!(async { aggregato::InMemoryEventStore::new() });

mod snapshots {
    aggregato::snapshot_store_conformance!(async { aggregato::InMemoryEventStore::new() });
}
