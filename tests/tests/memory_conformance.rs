//! The in-memory store against the shared event-store and snapshot-store conformance suites.

aggregato::event_store_conformance!(async { aggregato::InMemoryEventStore::new() });

mod snapshots {
    aggregato::snapshot_store_conformance!(async { aggregato::InMemoryEventStore::new() });
}

#[path = "support/stored_data.rs"]
mod stored_data;

mod typed {
    use std::sync::Arc;

    use aggregato::InMemoryEventStore;

    use super::stored_data;

    fn store() -> Arc<InMemoryEventStore> {
        Arc::new(InMemoryEventStore::new())
    }

    #[tokio::test]
    async fn floats_come_back_bit_for_bit() {
        stored_data::floats_come_back_bit_for_bit(store()).await;
    }

    #[tokio::test]
    async fn non_finite_floats_are_refused() {
        stored_data::non_finite_floats_are_refused(store()).await;
    }

    #[tokio::test]
    async fn an_event_of_another_aggregate_type_is_never_applied() {
        stored_data::an_event_of_another_aggregate_type_is_never_applied(store()).await;
    }

    #[tokio::test]
    async fn a_save_retried_after_a_lost_reply_returns_the_stored_events() {
        stored_data::a_save_retried_after_a_lost_reply_returns_the_stored_events(store()).await;
    }
}
