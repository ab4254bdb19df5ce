//! The event-store conformance suite: one set of checks that every [`EventStore`] backend
//! must pass unchanged.
//!
//! Each check is a public async function taking a fresh, empty store. The
//! [`event_store_conformance!`](crate::event_store_conformance) macro stamps out one
//! `#[tokio::test]` per check for a backend:
//!
//! ```
//! // In a test file of the backend's crate:
//! aggregato::event_store_conformance!(async { aggregato::InMemoryEventStore::new() });
//! # fn main() {}
//! ```
//!
//! For a backend that needs a server, `event_store_conformance!(optional: make)` takes a
//! future of `Option<store>`; `None` (say, no `DATABASE_URL`) prints that the check was
//! skipped instead of running it, and fails it when the `CI` environment variable is set, where
//! a skipped check would pass for a checked one. Attributes written before `optional:` go on
//! every generated test, so a crate can report the checks as ignored, with the reason, when it
//! knows at build time that the backend is missing (`cfg_attr(no_database_url, ignore = "...")`,
//! with a `cfg` its build script sets):
//!
//! ```
//! # #![allow(unexpected_cfgs)]
//! # async fn connect_from_env() -> Option<aggregato::InMemoryEventStore> { None }
//! aggregato::event_store_conformance!(
//!     #[cfg_attr(no_database_url, ignore = "needs PostgreSQL: DATABASE_URL is not set")]
//!     optional: connect_from_env()
//! );
//! # fn main() {}
//! ```
//!
//! A check panics (it is a test assertion) with a message naming the rule the store broke.

mod appends;
mod filters;
mod reads;
mod snapshots;
mod stored_data;

use serde_json::json;
use uuid::Uuid;

use crate::event::{EventEnvelope, Metadata, NewEvent, RecordedEvent};
use crate::store::{EventStore, ExpectedVersion, StoreError};

pub use appends::{
    appends_and_reads_back_in_order, batch_is_atomic, concurrent_appenders_on_one_stream,
    duplicate_event_ids_are_idempotent, expected_any, expected_exact, expected_no_stream,
    expected_stream_exists, repeated_ids_come_back_as_first_recorded,
};
pub use filters::{
    filtered_reads_page_by_position, filtered_subscription_catches_up_and_follows,
    read_all_filters_by_aggregate_and_event_type, visiting_a_page_matches_reading_it,
};
pub use reads::{
    find_event_looks_up_an_id_in_its_stream, read_all_in_global_order,
    subscription_catches_up_and_follows,
};
pub use snapshots::{
    an_unreadable_snapshot_is_refused, another_schema_version_replaces_the_snapshot,
    newest_snapshot_wins, snapshot_round_trip, snapshots_are_per_stream,
};
pub use stored_data::{
    a_stream_keeps_one_aggregate_type, floats_come_back_bit_for_bit,
    what_cannot_be_read_back_is_refused,
};

/// A test event for `stream` carrying `n`, with a fresh id.
pub fn sample_event(n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        aggregate_type: "Conformance".to_owned(),
        event_type: "Sampled".to_owned(),
        event_version: 1,
        metadata: Metadata::new().with_actor("conformance"),
        payload: json!({ "n": n }).into(),
    }
}

fn numbers(events: &[EventEnvelope]) -> Vec<u64> {
    events
        .iter()
        .map(|event| event.payload["n"].as_u64().unwrap_or(u64::MAX))
        .collect()
}

fn versions<P>(events: &[EventEnvelope<P>]) -> Vec<u64> {
    events.iter().map(|event| event.version).collect()
}

fn is_conflict<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::ConcurrencyConflict { .. }))
}

async fn append_ok<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    expected: ExpectedVersion,
    n: u64,
) {
    append_batch(store, stream, expected, vec![sample_event(n)]).await;
}

/// Appends `events`, failing the check with the store's error if the append fails.
async fn append_batch<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> Vec<RecordedEvent> {
    store
        .append(stream, expected, events)
        .await
        .unwrap_or_else(|error| {
            panic_with(&format!(
                "append to {stream} with {expected} must succeed: {error}"
            ))
        })
}

async fn read_stream<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    from: u64,
) -> Vec<EventEnvelope> {
    store
        .read_stream(stream, from)
        .await
        .unwrap_or_else(|error| panic_with(&format!("read_stream({stream}) failed: {error}")))
}

async fn read_all<S: EventStore + ?Sized>(
    store: &S,
    after: u64,
    limit: usize,
) -> Vec<EventEnvelope> {
    store
        .read_all(after, limit)
        .await
        .unwrap_or_else(|error| panic_with(&format!("read_all({after}) failed: {error}")))
}

async fn version_of<S: EventStore + ?Sized>(store: &S, stream: &str) -> u64 {
    store
        .stream_version(stream)
        .await
        .unwrap_or_else(|error| panic_with(&format!("stream_version({stream}) failed: {error}")))
}

/// JSON nested `depth` arrays and objects deep.
fn nested(depth: usize) -> serde_json::Value {
    (0..depth).fold(json!(1), |inner, level| {
        if level % 2 == 0 {
            json!([inner])
        } else {
            json!({ "a": inner })
        }
    })
}

/// Fails the running conformance check.
#[track_caller]
fn panic_with(message: &str) -> ! {
    std::panic::panic_any(format!("event store conformance: {message}"))
}

/// Stamps out one `#[tokio::test]` per conformance check for a backend.
///
/// `$make` is an expression evaluating to a future of a fresh, empty store; it runs once per
/// test, so each check gets its own store (for SQL backends: its own schema or file).
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.
///
/// `optional: $make` takes a future of `Option<store>`: `None` skips the check with a line on
/// stderr, or fails it when the `CI` environment variable is set (and is not `false` or `0`).
/// Attributes before `optional:` are put on every generated test (see the
/// [module docs](crate::testing::conformance) for reporting skipped checks as ignored).
#[macro_export]
macro_rules! event_store_conformance {
    ($(#[$attr:meta])* optional: $make:expr) => {
        $crate::event_store_conformance!(@all [$(#[$attr])*] optional $make);
    };
    ($make:expr) => {
        $crate::event_store_conformance!(@all [] required $make);
    };
    (@all $attrs:tt $mode:ident $make:expr) => {
        $crate::event_store_conformance!(@tests $attrs $mode $make;
            appends_and_reads_back_in_order,
            expected_no_stream,
            expected_stream_exists,
            expected_exact,
            expected_any,
            batch_is_atomic,
            duplicate_event_ids_are_idempotent,
            repeated_ids_come_back_as_first_recorded,
            concurrent_appenders_on_one_stream,
            read_all_in_global_order,
            find_event_looks_up_an_id_in_its_stream,
            read_all_filters_by_aggregate_and_event_type,
            filtered_reads_page_by_position,
            visiting_a_page_matches_reading_it,
            subscription_catches_up_and_follows,
            filtered_subscription_catches_up_and_follows,
            a_stream_keeps_one_aggregate_type,
            what_cannot_be_read_back_is_refused,
            floats_come_back_bit_for_bit,
        );
    };
    (@tests $attrs:tt $mode:ident $make:expr; $($check:ident),* $(,)?) => {
        $(
            $crate::event_store_conformance!(@test $attrs $mode $make, $check);
        )*
    };
    (@test [$(#[$attr:meta])*] $mode:ident $make:expr, $check:ident) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[$attr])*
        async fn $check() {
            $crate::event_store_conformance!(@run $mode $make, $check);
        }
    };
    (@run required $make:expr, $check:ident) => {
        let store = $make.await;
        $crate::testing::conformance::$check(store).await;
    };
    (@run optional $make:expr, $check:ident) => {
        match $make.await {
            ::core::option::Option::Some(store) => $crate::testing::conformance::$check(store).await,
            ::core::option::Option::None => {
                $crate::testing::conformance::skipped(::core::stringify!($check))
            }
        }
    };
}

/// Reports a check of an `optional:` conformance run whose backend is not configured: a line
/// on stderr, or a failure when the `CI` environment variable is set (and is not `false` or
/// `0`), since there a skipped check would pass for a checked one.
#[doc(hidden)]
#[track_caller]
pub fn skipped(check: &str) {
    let in_ci = std::env::var("CI").is_ok_and(|ci| !ci.is_empty() && ci != "false" && ci != "0");
    if in_ci {
        panic_with(&format!(
            "{check}: the backend is not configured, and CI is set: a skipped check fails in CI"
        ));
    }
    eprintln!("skipped {check}: the backend is not configured");
}

/// Stamps out one `#[tokio::test]` per snapshot-store check, like
/// [`event_store_conformance!`](crate::event_store_conformance) (same `optional:` form, with
/// the same attributes).
#[macro_export]
macro_rules! snapshot_store_conformance {
    ($(#[$attr:meta])* optional: $make:expr) => {
        $crate::snapshot_store_conformance!(@all [$(#[$attr])*] optional $make);
    };
    ($make:expr) => {
        $crate::snapshot_store_conformance!(@all [] required $make);
    };
    (@all $attrs:tt $mode:ident $make:expr) => {
        $crate::event_store_conformance!(@tests $attrs $mode $make;
            snapshot_round_trip,
            newest_snapshot_wins,
            another_schema_version_replaces_the_snapshot,
            snapshots_are_per_stream,
            an_unreadable_snapshot_is_refused,
        );
    };
}
