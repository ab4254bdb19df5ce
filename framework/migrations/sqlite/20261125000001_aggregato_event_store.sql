-- aggregato event store, SQLite schema.
--
-- Positions are assigned by the appender as MAX(position) + 1, 2, ... inside a
-- `BEGIN IMMEDIATE` transaction. SQLite runs one write transaction at a time, so positions are
-- committed in the order they are assigned: a reader of "events after position p" never misses
-- a lower position that commits later.

CREATE TABLE aggregato_events (
    position       INTEGER PRIMARY KEY,
    event_id       BLOB    NOT NULL,
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    aggregate_type TEXT    NOT NULL,
    event_type     TEXT    NOT NULL,
    event_version  INTEGER NOT NULL,
    recorded_at    TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    CONSTRAINT aggregato_events_event_id_key UNIQUE (event_id),
    -- Optimistic concurrency, enforced by the database as well as by the appender's check.
    CONSTRAINT aggregato_events_stream_version_key UNIQUE (stream_id, version)
);

-- The newest snapshot of each stream.
CREATE TABLE aggregato_snapshots (
    stream_id      TEXT    PRIMARY KEY,
    aggregate_type TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    taken_at       TEXT    NOT NULL
);
