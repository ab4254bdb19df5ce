//! The `tracing` spans the framework opens, so a user's subscriber (OpenTelemetry, say) sees a
//! trace per command: `command` (aggregate type, stream id, command name, command and
//! correlation ids, expected and committed versions), inside it each `append` (stream id, event
//! count, expected and committed versions), and `saga_step` for each step a saga runs.
//!
//! Fields not known when a span opens are declared empty and recorded once known.

use tracing::Instrument as _;

use crate::event::{NewEvent, RecordedEvent};
use crate::store::{EventStore, ExpectedVersion, StoreError};

/// Appends through `store` inside an `append` span.
pub(crate) async fn append<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let span = tracing::info_span!(
        "append",
        stream_id = stream,
        events = events.len(),
        expected_version = %expected,
        committed_version = tracing::field::Empty,
    );
    let appended = store
        .append(stream, expected, events)
        .instrument(span.clone())
        .await;
    if let Ok(Some(last)) = appended.as_ref().map(|events| events.last()) {
        span.record("committed_version", last.version);
    }
    appended
}

/// The name of a type without its module path: `DepositMoney` for `bank::DepositMoney` (the
/// generic arguments of a generic type stay as `std::any::type_name` writes them).
pub(crate) fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let path_end = full.find('<').unwrap_or(full.len());
    match full[..path_end].rfind("::") {
        Some(separator) => &full[separator + 2..],
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn a_short_type_name_drops_the_module_path() {
        assert_eq!(short_type_name::<std::string::String>(), "String");
        assert_eq!(short_type_name::<u32>(), "u32");
        assert_eq!(
            short_type_name::<std::vec::Vec<std::string::String>>(),
            "Vec<alloc::string::String>"
        );
    }
}
