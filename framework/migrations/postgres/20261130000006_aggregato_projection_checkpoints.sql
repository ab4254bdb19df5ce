-- Projection checkpoints (aggregato::projection::postgres::PostgresCheckpoints).
--
-- One row per projection version: its checkpoint (the position of the last event handled),
-- the claim of the runner holding it (owner, epoch, lease), where it stands, and the event it
-- stopped at when it failed. Every write that moves a checkpoint names the owner, the epoch and
-- the position it expects, so a runner that lost its claim (a higher epoch) commits nothing.
-- Leases are times of this server's clock (now()), never of the runners' clocks.
CREATE TABLE aggregato_checkpoints (
    name              TEXT        NOT NULL,
    version           BIGINT      NOT NULL,
    position          BIGINT      NOT NULL DEFAULT 0,
    -- Raised by every change of owner; the fence of every checkpoint write.
    epoch             BIGINT      NOT NULL DEFAULT 0,
    owner             UUID,
    lease_until       TIMESTAMPTZ,
    status            TEXT        NOT NULL DEFAULT 'running',
    -- The version queries read; at most one per name (the index below).
    active            BOOLEAN     NOT NULL DEFAULT FALSE,
    -- Events up to this position are replays (a rebuild, or a new version catching up).
    replay_until      BIGINT      NOT NULL DEFAULT 0,
    -- The event a failed projection stopped at (all NULL unless status = 'failed').
    failed_position   BIGINT,
    failed_event_id   UUID,
    failed_stream_id  TEXT,
    failed_version    BIGINT,
    failed_event_type TEXT,
    failed_error      TEXT,
    failed_attempts   BIGINT,
    failed_at         TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version),
    CONSTRAINT aggregato_checkpoints_status_check
        CHECK (status IN ('running', 'failed', 'retired')),
    CONSTRAINT aggregato_checkpoints_counts_check
        CHECK (version >= 0 AND position >= 0 AND epoch >= 0 AND replay_until >= 0)
);

-- At most one active version per projection, whatever two runners claiming new versions at
-- once decide.
CREATE UNIQUE INDEX aggregato_checkpoints_one_active ON aggregato_checkpoints (name) WHERE active;

-- The events projections declared with `dead_letter` gave up on and went past.
CREATE TABLE aggregato_dead_letters (
    name           TEXT        NOT NULL,
    version        BIGINT      NOT NULL,
    position       BIGINT      NOT NULL,
    event_id       UUID        NOT NULL,
    stream_id      TEXT        NOT NULL,
    stream_version BIGINT      NOT NULL,
    event_type     TEXT        NOT NULL,
    error          TEXT        NOT NULL,
    attempts       BIGINT      NOT NULL,
    failed_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (name, version, position)
);
