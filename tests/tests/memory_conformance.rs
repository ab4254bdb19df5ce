//! The in-memory store against the shared event-store conformance suite.

aggregato::event_store_conformance!(async { aggregato::InMemoryEventStore::new() });
