-- A copy that could not be written into a provider's calendar waits before it is tried again,
-- longer after every failure (capped), instead of being retried on every poll.
CREATE TABLE calendar_copy_retries (
    meeting_id  text        NOT NULL,
    provider_id text        NOT NULL,
    failures    integer     NOT NULL,
    retry_at    timestamptz NOT NULL,
    PRIMARY KEY (meeting_id, provider_id)
);
