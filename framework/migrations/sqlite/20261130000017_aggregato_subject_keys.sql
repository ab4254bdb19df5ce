-- Personal data (aggregato::privacy, feature `privacy`): each data subject's key, wrapped under
-- the application's master key (never stored in the clear), and, apart from it, the record
-- of erasures, so that a key table restored from an older backup cannot bring a forgotten
-- subject back. Times are Unix milliseconds of the application's clock.
CREATE TABLE aggregato_subject_keys (
    tenant        TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    generation    INTEGER NOT NULL CHECK (generation > 0),
    master_key_id TEXT    NOT NULL,
    wrapped_key   BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant, subject)
);

-- A master-key rotation looks for the keys not yet under the new master key.
CREATE INDEX aggregato_subject_keys_by_master ON aggregato_subject_keys (master_key_id);

-- One row per erasure: keys of `generation` and below of the subject are erased for good.
CREATE TABLE aggregato_erased_subjects (
    tenant     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    generation INTEGER NOT NULL CHECK (generation >= 0),
    erased_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, subject, generation)
);
