-- The first answer to a staff write sent with an Idempotency-Key, so that a retry gets it
-- again instead of doing the write twice. A row without status is a request still running.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key          text        NOT NULL,
    route        text        NOT NULL,
    actor        text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    status       integer,
    content_type text,
    body         bytea,
    PRIMARY KEY (key, route, actor)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);
