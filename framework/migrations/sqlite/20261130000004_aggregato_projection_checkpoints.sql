-- Projection checkpoints (aggregato::projection::sqlite::SqliteCheckpoints). See the
-- PostgreSQL migration of the same name. Times are Unix milliseconds (INTEGER) of the
-- application's clock: SQLite has no server clock, and integers compare exactly.
CREATE TABLE aggregato_checkpoints (
    name              TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    position          INTEGER NOT NULL DEFAULT 0,
    epoch             INTEGER NOT NULL DEFAULT 0,
    owner             BLOB,
    lease_until       INTEGER,
    status            TEXT    NOT NULL DEFAULT 'running',
    active            INTEGER NOT NULL DEFAULT 0,
    replay_until      INTEGER NOT NULL DEFAULT 0,
    failed_position   INTEGER,
    failed_event_id   BLOB,
    failed_stream_id  TEXT,
    failed_version    INTEGER,
    failed_event_type TEXT,
    failed_error      TEXT,
    failed_attempts   INTEGER,
    failed_at         INTEGER,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (name, version),
    CONSTRAINT aggregato_checkpoints_status_check
        CHECK (status IN ('running', 'failed', 'retired')),
    CONSTRAINT aggregato_checkpoints_counts_check
        CHECK (version >= 0 AND position >= 0 AND epoch >= 0 AND replay_until >= 0)
);

CREATE UNIQUE INDEX aggregato_checkpoints_one_active ON aggregato_checkpoints (name) WHERE active;

CREATE TABLE aggregato_dead_letters (
    name           TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    position       INTEGER NOT NULL,
    event_id       BLOB    NOT NULL,
    stream_id      TEXT    NOT NULL,
    stream_version INTEGER NOT NULL,
    event_type     TEXT    NOT NULL,
    error          TEXT    NOT NULL,
    attempts       INTEGER NOT NULL,
    failed_at      INTEGER NOT NULL,
    PRIMARY KEY (name, version, position)
);
