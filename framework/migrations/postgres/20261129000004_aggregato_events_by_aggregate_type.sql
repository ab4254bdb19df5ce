-- Reads of the global log filtered by aggregate type (`EventFilter::aggregate_types`, a saga
-- executor's recovery) use this index instead of scanning the whole log.
--
-- There is no index on event_type: a filter by event type usually names an aggregate type
-- too, and this index narrows those reads already; an index only pays for itself when a
-- filter by event type alone is common and selective, and every index slows every append.
-- Add `CREATE INDEX ... ON aggregato_events (event_type, position)` in your own migrations
-- if your consumers read a rare event type across aggregates.
--
-- Building it blocks appends while it reads the log. On a large log, create it beforehand
-- without blocking them, outside a transaction, and this migration then finds it:
--   CREATE INDEX CONCURRENTLY aggregato_events_by_aggregate_type
--       ON aggregato_events (aggregate_type, position);
CREATE INDEX IF NOT EXISTS aggregato_events_by_aggregate_type
    ON aggregato_events (aggregate_type, position);
