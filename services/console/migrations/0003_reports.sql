-- (Idempotent: it was first numbered 0002, beside 0002_page_indexes.)
-- Reports for funders and the neutrality report: one fact row per need, meeting, delivery,
-- feedback and proposal, each carrying the dimensions a report filters by (copied from the need
-- and its company when they are known, and again whenever they change).
CREATE TABLE IF NOT EXISTS report_needs (
    need_id     text PRIMARY KEY,
    company_id  text NOT NULL,
    category    text NOT NULL DEFAULT '',
    sector      text NOT NULL DEFAULT '',
    district    text NOT NULL DEFAULT '',
    size_class  text NOT NULL DEFAULT 'unknown',
    received_at timestamptz NOT NULL,
    proposed_at timestamptz,
    matched_at  timestamptz,
    meeting_at  timestamptz,
    met_at      timestamptz,
    outcome_at  timestamptz,
    outcome     text
);
-- The time indexes carry the filter dimensions, so a filtered report reads the index alone.
CREATE INDEX IF NOT EXISTS report_needs_by_received ON report_needs (received_at)
    INCLUDE (category, sector, district, size_class);
CREATE INDEX IF NOT EXISTS report_needs_by_company ON report_needs (company_id);

CREATE TABLE IF NOT EXISTS report_meetings (
    meeting_id   text PRIMARY KEY,
    need_id      text NOT NULL,
    provider_id  text NOT NULL DEFAULT '',
    category     text NOT NULL DEFAULT '',
    sector       text NOT NULL DEFAULT '',
    district     text NOT NULL DEFAULT '',
    size_class   text NOT NULL DEFAULT 'unknown',
    starts_at    timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'confirmed',
    declined     boolean NOT NULL DEFAULT false,
    attendance   text
);
CREATE INDEX IF NOT EXISTS report_meetings_by_start ON report_meetings (starts_at)
    INCLUDE (provider_id, category, sector, district, size_class, status, attendance, declined);
CREATE INDEX IF NOT EXISTS report_meetings_by_need ON report_meetings (need_id);

CREATE TABLE IF NOT EXISTS report_deliveries (
    delivery_id text PRIMARY KEY,
    meeting_id  text,
    channel     text NOT NULL,
    status      text NOT NULL,
    at          timestamptz NOT NULL,
    category    text NOT NULL DEFAULT '',
    sector      text NOT NULL DEFAULT '',
    district    text NOT NULL DEFAULT '',
    size_class  text NOT NULL DEFAULT 'unknown'
);
CREATE INDEX IF NOT EXISTS report_deliveries_by_at ON report_deliveries (at)
    INCLUDE (channel, status, category, sector, district, size_class);
CREATE INDEX IF NOT EXISTS report_deliveries_by_meeting ON report_deliveries (meeting_id);

CREATE TABLE IF NOT EXISTS report_feedback (
    meeting_id text NOT NULL,
    given_by   text NOT NULL,
    need_id    text,
    category   text NOT NULL DEFAULT '',
    sector     text NOT NULL DEFAULT '',
    district   text NOT NULL DEFAULT '',
    size_class text NOT NULL DEFAULT 'unknown',
    rating     integer,
    outcome    text,
    given_at   timestamptz NOT NULL,
    PRIMARY KEY (meeting_id, given_by)
);
CREATE INDEX IF NOT EXISTS report_feedback_by_time ON report_feedback (given_at);

CREATE TABLE IF NOT EXISTS report_proposals (
    proposal_id text PRIMARY KEY,
    run_id      text NOT NULL,
    need_id     text NOT NULL,
    provider_id text NOT NULL,
    category    text NOT NULL DEFAULT '',
    rank        integer NOT NULL,
    tied        boolean NOT NULL DEFAULT false,
    first_tied  boolean NOT NULL DEFAULT false,
    chosen      boolean NOT NULL DEFAULT false,
    proposed_at timestamptz NOT NULL
);
-- Covering: the neutrality report reads a period's proposals from the index alone.
CREATE INDEX IF NOT EXISTS report_proposals_by_time ON report_proposals (proposed_at)
    INCLUDE (provider_id, category, rank, tied, first_tied, chosen);
CREATE INDEX IF NOT EXISTS report_proposals_by_need ON report_proposals (need_id);

-- What ranked each run: the tolerance, weights and taxonomy version in force.
CREATE TABLE IF NOT EXISTS report_runs (
    run_id           text PRIMARY KEY,
    proposed_at      timestamptz NOT NULL,
    taxonomy_version text NOT NULL,
    tolerance        double precision,
    weights          jsonb
);
CREATE INDEX IF NOT EXISTS report_runs_by_time ON report_runs (proposed_at DESC);

-- Monthly reports produced by the schedule (or on demand): the unique month makes a second
-- replica's attempt a no-op.
CREATE TABLE IF NOT EXISTS report_documents (
    month      date PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    pdf        bytea NOT NULL
);

-- The dimensions of each company, as its events state them.
CREATE TABLE IF NOT EXISTS report_companies (
    company_id text PRIMARY KEY,
    sector     text NOT NULL DEFAULT '',
    district   text NOT NULL DEFAULT '',
    size_class text NOT NULL DEFAULT 'unknown'
);
