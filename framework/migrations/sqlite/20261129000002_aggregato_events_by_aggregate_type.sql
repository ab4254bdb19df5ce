-- Reads of the global log filtered by aggregate type (`EventFilter::aggregate_types`, a saga
-- executor's recovery) use this index instead of scanning the whole log.
--
-- There is no index on event_type: a filter by event type usually names an aggregate type
-- too, and this index narrows those reads already; every index slows every append. See the
-- PostgreSQL migration of the same name.
CREATE INDEX IF NOT EXISTS aggregato_events_by_aggregate_type ON aggregato_events (aggregate_type, position);
