-- Hits per bucket (an attendee link, a client address) and fixed window: shared by every
-- replica, so a limit holds however many run.
CREATE TABLE IF NOT EXISTS rate_limit_hits (
    bucket       text        NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX IF NOT EXISTS rate_limit_hits_window ON rate_limit_hits (window_start);
