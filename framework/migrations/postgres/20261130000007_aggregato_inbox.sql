-- The inbox (aggregato::outbox::postgres::PostgresInbox): the ids of the messages each
-- consumer has handled, recorded in the transaction of the handler's effect, so a redelivered
-- message has no second effect. Purged after the consumer's retention.
CREATE TABLE aggregato_inbox (
    consumer    TEXT        NOT NULL,
    message_id  UUID        NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);

CREATE INDEX aggregato_inbox_by_age ON aggregato_inbox (consumer, received_at);
