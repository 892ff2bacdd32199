-- The console's read model: denormalised rows built from every context's events.
CREATE TABLE companies (
    company_id  text PRIMARY KEY,
    name        text NOT NULL,
    sector_code text NOT NULL DEFAULT '',
    postcode    text NOT NULL DEFAULT '',
    city        text NOT NULL DEFAULT '',
    size        integer,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX companies_by_name ON companies (lower(name), company_id);

CREATE TABLE providers (
    provider_id text PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL DEFAULT 'it_provider',
    categories  text[] NOT NULL DEFAULT '{}',
    postcode    text NOT NULL DEFAULT '',
    city        text NOT NULL DEFAULT '',
    capacity    integer,
    shown       integer NOT NULL DEFAULT 0,
    chosen      integer NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX providers_by_name ON providers (lower(name), provider_id);

CREATE TABLE needs (
    need_id      text PRIMARY KEY,
    company_id   text NOT NULL,
    title        text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    categories   text[] NOT NULL DEFAULT '{}',
    service_type text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'open',
    declines     integer NOT NULL DEFAULT 0,
    no_slot      boolean NOT NULL DEFAULT false,
    last_run_id  text,
    updated_at   timestamptz NOT NULL,
    search       tsvector GENERATED ALWAYS AS (
        to_tsvector('german', title || ' ' || description)
    ) STORED
);
CREATE INDEX needs_search ON needs USING gin (search);
CREATE INDEX needs_by_time ON needs (updated_at DESC, need_id DESC);
CREATE INDEX needs_by_status ON needs (status, updated_at DESC, need_id DESC);
CREATE INDEX needs_by_company ON needs (company_id);

CREATE TABLE runs (
    run_id       text PRIMARY KEY,
    need_ids     text[] NOT NULL,
    requested_by text NOT NULL,
    batch        boolean NOT NULL DEFAULT false,
    requested_at timestamptz NOT NULL
);
CREATE INDEX runs_by_need ON runs USING gin (need_ids);

CREATE TABLE proposals (
    proposal_id text PRIMARY KEY,
    run_id      text NOT NULL,
    need_id     text NOT NULL,
    provider_id text NOT NULL,
    rank        integer NOT NULL,
    score       double precision NOT NULL,
    breakdown   jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'proposed',
    reason      text NOT NULL DEFAULT '',
    decided_by  text,
    match_id    text,
    proposed_at timestamptz NOT NULL,
    decided_at  timestamptz
);
CREATE INDEX proposals_by_need ON proposals (need_id, run_id, rank);
CREATE INDEX proposals_waiting ON proposals (status) WHERE status = 'proposed';

CREATE TABLE meetings (
    meeting_id    text PRIMARY KEY,
    match_id      text NOT NULL,
    need_id       text NOT NULL,
    title         text NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    status        text NOT NULL DEFAULT 'confirmed',
    venue_id      text NOT NULL DEFAULT '',
    venue_name    text NOT NULL DEFAULT '',
    room_name     text,
    address       text,
    video_url     text,
    company_name  text NOT NULL DEFAULT '',
    provider_name text NOT NULL DEFAULT '',
    sequence      integer NOT NULL DEFAULT 0,
    declines      integer NOT NULL DEFAULT 0,
    attendance    text,
    no_show_party text,
    reason        text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL
);
CREATE INDEX meetings_by_start ON meetings (starts_at, meeting_id);
CREATE INDEX meetings_by_need ON meetings (need_id);
CREATE INDEX meetings_by_status ON meetings (status, starts_at, meeting_id);

CREATE TABLE attendees (
    meeting_id   text NOT NULL,
    contact_id   text NOT NULL,
    party_kind   text NOT NULL,
    party_name   text NOT NULL,
    contact_name text NOT NULL,
    email        text,
    phone        text,
    rsvp         text NOT NULL DEFAULT 'needs_action',
    comment      text NOT NULL DEFAULT '',
    PRIMARY KEY (meeting_id, contact_id)
);

CREATE TABLE deliveries (
    delivery_id       text PRIMARY KEY,
    meeting_id        text,
    contact_id        text NOT NULL,
    channel           text NOT NULL,
    status            text NOT NULL,
    source_event_type text NOT NULL,
    attempts          integer NOT NULL DEFAULT 0,
    reason            text NOT NULL DEFAULT '',
    permanent         boolean NOT NULL DEFAULT false,
    at                timestamptz NOT NULL
);
CREATE INDEX deliveries_by_meeting ON deliveries (meeting_id);
CREATE INDEX deliveries_by_status ON deliveries (status, at DESC, delivery_id);

CREATE TABLE dead_letters (
    event_id         uuid PRIMARY KEY,
    service          text NOT NULL,
    consumer         text NOT NULL,
    original_subject text NOT NULL,
    original_msg_id  text,
    original_headers jsonb NOT NULL,
    original_body    text NOT NULL,
    reason           text NOT NULL,
    error_type       text NOT NULL,
    deliveries       integer NOT NULL,
    dead_lettered_at timestamptz NOT NULL,
    state            text NOT NULL DEFAULT 'open',
    settled_at       timestamptz
);
CREATE INDEX dead_letters_open ON dead_letters (consumer, dead_lettered_at DESC) WHERE state = 'open';

-- How far each consumer has come: the newest event applied, and when.
CREATE TABLE projection_state (
    consumer      text PRIMARY KEY,
    last_event_at timestamptz NOT NULL,
    applied_at    timestamptz NOT NULL
);
