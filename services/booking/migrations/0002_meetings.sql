CREATE TABLE venues (
    venue_id text PRIMARY KEY,
    doc      jsonb NOT NULL
);
-- Every bookable thing (room, provider, company) gets a numeric key, so that the exclusion
-- constraint can use the built-in range GiST operators (no btree_gist needed).
CREATE TABLE resources (
    resource_id  text PRIMARY KEY,
    resource_key bigserial UNIQUE
);
CREATE TABLE meetings (
    meeting_id text PRIMARY KEY,
    match_id   text        NOT NULL UNIQUE,
    uid        text        NOT NULL UNIQUE,
    sequence   integer     NOT NULL DEFAULT 0,
    status     text        NOT NULL DEFAULT 'confirmed',
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    details    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE allocations (
    meeting_id   text    NOT NULL REFERENCES meetings (meeting_id),
    resource_key bigint  NOT NULL REFERENCES resources (resource_key),
    span         tstzrange NOT NULL,
    live         boolean NOT NULL DEFAULT true,
    EXCLUDE USING gist (int8range(resource_key, resource_key, '[]') WITH &&, span WITH &&)
        WHERE (live)
);
CREATE INDEX allocations_by_meeting ON allocations (meeting_id);
CREATE TABLE responses (
    meeting_id  text NOT NULL REFERENCES meetings (meeting_id),
    contact_id  text NOT NULL,
    response    text NOT NULL,
    answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, contact_id)
);
CREATE TABLE reminders (
    reminder_id  text PRIMARY KEY,
    meeting_id   text        NOT NULL REFERENCES meetings (meeting_id),
    lead_minutes integer     NOT NULL,
    due_at       timestamptz NOT NULL,
    sent_at      timestamptz
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE sent_at IS NULL;
