-- The inbox (aggregato::outbox::sqlite::SqliteInbox). See the PostgreSQL migration of the same
-- name. received_at is Unix milliseconds of the application's clock.
CREATE TABLE aggregato_inbox (
    consumer    TEXT    NOT NULL,
    message_id  BLOB    NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (consumer, message_id)
);

CREATE INDEX aggregato_inbox_by_age ON aggregato_inbox (consumer, received_at);
