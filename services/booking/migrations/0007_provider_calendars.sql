-- Providers' own calendars (CalDAV or a read-only iCalendar feed): their busy times limit the
-- slot search. The password is never stored: secret_ref names a secret in booking's settings.
CREATE TABLE provider_calendars (
    provider_id    text PRIMARY KEY,
    kind           text        NOT NULL CHECK (kind IN ('caldav', 'ical')),
    url            text        NOT NULL,
    username       text        NOT NULL DEFAULT '',
    secret_ref     text,
    write_meetings boolean     NOT NULL DEFAULT false,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    fetched_at     timestamptz,  -- the last successful fetch: its busy times are in use
    attempted_at   timestamptz,
    failure        text,         -- why the last fetch failed (null after a success)
    busy_count     integer     NOT NULL DEFAULT 0,
    leased_until   timestamptz   -- a replica is fetching it (the schedule skips it meanwhile)
);
CREATE TABLE provider_busy (
    provider_id text      NOT NULL REFERENCES provider_calendars (provider_id) ON DELETE CASCADE,
    span        tstzrange NOT NULL
);
CREATE INDEX provider_busy_by_provider ON provider_busy (provider_id);
-- Werkbank's meetings written into a provider's CalDAV calendar, as last written.
CREATE TABLE calendar_copies (
    meeting_id  text        NOT NULL REFERENCES meetings (meeting_id),
    provider_id text        NOT NULL,
    sequence    integer     NOT NULL,
    status      text        NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, provider_id)
);
