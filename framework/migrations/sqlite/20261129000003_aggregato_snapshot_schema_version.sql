-- A snapshot records the version of the state's schema it was taken with
-- (`Aggregate::SNAPSHOT_VERSION`); a repository ignores a snapshot of another version and
-- rebuilds the aggregate from its events. Snapshots taken before this column existed were
-- taken at version 1, the default of every aggregate. See the PostgreSQL migration of the
-- same name.
ALTER TABLE aggregato_snapshots ADD COLUMN schema_version INTEGER NOT NULL DEFAULT 1;
