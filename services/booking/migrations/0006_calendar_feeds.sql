-- Subscribable feeds: a feed URL names its subject's generation; revoking raises it.
CREATE TABLE feed_generations (
    kind       text    NOT NULL CHECK (kind IN ('provider', 'venue', 'room')),
    subject_id text    NOT NULL,
    generation integer NOT NULL DEFAULT 1,
    PRIMARY KEY (kind, subject_id)
);
