//! The queries that read events: a stream (whole envelopes, or the four columns a replay
//! needs, its payloads as JSON text), a page of the global log narrowed by an
//! [`EventFilter`], and a stream's version.

use sqlx::sqlite::SqliteRow;

use super::SqliteEventStore;
use crate::event::EventEnvelope;
use crate::store::sql::{
    backend, decode_event, decode_page, event_columns, limit_to_db, replay_columns, to_db,
    visit_page, visit_replay_row,
};
use crate::store::{EventFilter, ReplayVisitor, StoreError, StoredEventVisitor};

impl SqliteEventStore {
    /// `stream`'s events from `from_version` on, whole.
    pub(super) async fn select_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM aggregato_events WHERE stream_id = ? AND version >= ? ORDER BY version"
        ))
        .bind(stream)
        .bind(to_db(from_version))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(decode).collect()
    }

    /// `stream`'s events from `from_version` on, as the four columns a replay needs.
    pub(super) async fn select_replay(
        &self,
        stream: &str,
        from_version: u64,
        visit: &mut ReplayVisitor<'_>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            replay_columns!(),
            " FROM aggregato_events WHERE stream_id = ? AND version >= ? ORDER BY version"
        ))
        .bind(stream)
        .bind(to_db(from_version))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        for row in &rows {
            visit_replay_row::<_, &str>(row, stream, |text| text, visit)?;
        }
        Ok(())
    }

    /// A page of the global log, as
    /// [`EventStore::read_all_filtered`](crate::store::EventStore::read_all_filtered) reads it.
    pub(super) async fn select_page(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let rows = self.fetch_page(after_position, limit, filter).await?;
        decode_page(&rows, decode)
    }

    /// A page of the global log handed to `visit`, as
    /// [`EventStore::visit_all`](crate::store::EventStore::visit_all) reads it: payloads and
    /// metadata as JSON text borrowed from the rows.
    pub(super) async fn visit_page(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
        visit: &mut StoredEventVisitor<'_>,
    ) -> Result<(), StoreError> {
        let rows = self.fetch_page(after_position, limit, filter).await?;
        visit_page::<_, &str>(&rows, |text| text, visit)
    }

    /// The rows of a page of the global log.
    async fn fetch_page(
        &self,
        after_position: u64,
        limit: usize,
        filter: &EventFilter,
    ) -> Result<Vec<SqliteRow>, StoreError> {
        if filter.is_none() {
            return Ok(Vec::new());
        }
        let aggregate_types = filter.allowed_aggregate_types();
        let event_types = filter.allowed_event_types();
        let mut query = sqlx::query(read_all_sql(
            aggregate_types.is_some(),
            event_types.is_some(),
        ))
        .bind(to_db(after_position));
        for list in [aggregate_types, event_types].into_iter().flatten() {
            query = query.bind(serde_json::to_string(list).map_err(backend)?);
        }
        query
            .bind(limit_to_db(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)
    }

    /// The event of `stream` stored under `event_id`, found through the event id's index.
    pub(super) async fn select_event(
        &self,
        stream: &str,
        event_id: uuid::Uuid,
    ) -> Result<Option<EventEnvelope>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM aggregato_events WHERE event_id = ? AND stream_id = ?"
        ))
        .bind(event_id)
        .bind(stream)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(decode).transpose()
    }

    /// `stream`'s last version, 0 when it holds no event.
    pub(super) async fn select_version(&self, stream: &str) -> Result<u64, StoreError> {
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM aggregato_events WHERE stream_id = ?",
        )
        .bind(stream)
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(u64::try_from(version).unwrap_or(0))
    }

    /// The newest event's position, 0 when the log is empty (an index probe of the primary
    /// key).
    pub(super) async fn select_head(&self) -> Result<u64, StoreError> {
        let head: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM aggregato_events")
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        Ok(u64::try_from(head).unwrap_or(0))
    }
}

/// A read of the global log, narrowed in SQL by the filter's lists that are given; its
/// parameters are the position, each given list as a JSON array of names, then the limit.
/// A list travels as one JSON parameter (`IN (SELECT value FROM json_each(?))`) rather than
/// one parameter per name, so there is one statement per shape, prepared once and cached.
fn read_all_sql(by_aggregate_type: bool, by_event_type: bool) -> &'static str {
    macro_rules! read_all {
        ($($condition:literal)?) => {
            concat!(
                "SELECT ",
                event_columns!(),
                " FROM aggregato_events WHERE position > ? ",
                $($condition,)?
                " ORDER BY position LIMIT ?"
            )
        };
    }
    match (by_aggregate_type, by_event_type) {
        (false, false) => read_all!(),
        (true, false) => read_all!("AND aggregate_type IN (SELECT value FROM json_each(?))"),
        (false, true) => read_all!("AND event_type IN (SELECT value FROM json_each(?))"),
        (true, true) => read_all!(
            "AND aggregate_type IN (SELECT value FROM json_each(?)) \
             AND event_type IN (SELECT value FROM json_each(?))"
        ),
    }
}

pub(super) fn decode(row: &SqliteRow) -> Result<EventEnvelope, StoreError> {
    decode_event::<SqliteRow, String>(row)
}
