CREATE TABLE effects (
    event_id uuid NOT NULL,
    run      text NOT NULL,
    at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE attempts (
    event_id uuid NOT NULL,
    at       timestamptz NOT NULL
);
CREATE TABLE things (
    id   text PRIMARY KEY,
    name text NOT NULL
);
