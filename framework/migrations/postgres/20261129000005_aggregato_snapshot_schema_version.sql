-- A snapshot records the version of the state's schema it was taken with
-- (`Aggregate::SNAPSHOT_VERSION`); a repository ignores a snapshot of another version and
-- rebuilds the aggregate from its events. Snapshots taken before this column existed were
-- taken at version 1, the default of every aggregate.
ALTER TABLE aggregato_snapshots
    ADD COLUMN IF NOT EXISTS schema_version BIGINT NOT NULL DEFAULT 1;
