-- Staff-maintained profiles, stored as validated documents.
CREATE TABLE companies (
    company_id text PRIMARY KEY,
    doc        jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE providers (
    provider_id text PRIMARY KEY,
    doc         jsonb       NOT NULL,
    booked      integer     NOT NULL DEFAULT 0,
    quality     double precision NOT NULL DEFAULT 0.5,
    ratings     integer     NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE needs (
    need_id    text PRIMARY KEY,
    company_id text        NOT NULL REFERENCES companies (company_id),
    doc        jsonb       NOT NULL,
    status     text        NOT NULL DEFAULT 'open',
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Every run, with what it saw, so that it can be audited and replayed.
CREATE TABLE runs (
    run_id           text PRIMARY KEY,
    need_id          text        NOT NULL,
    inputs_hash      text        NOT NULL,
    weights          jsonb       NOT NULL,
    taxonomy_version text        NOT NULL,
    results          jsonb       NOT NULL,
    requested_by     text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE proposals (
    proposal_id text PRIMARY KEY,
    run_id      text        NOT NULL REFERENCES runs (run_id),
    need_id     text        NOT NULL,
    provider_id text        NOT NULL,
    rank        integer     NOT NULL,
    score       double precision NOT NULL,
    breakdown   jsonb       NOT NULL,
    status      text        NOT NULL DEFAULT 'proposed',
    decided_at  timestamptz
);
CREATE INDEX proposals_by_need ON proposals (need_id, run_id, rank);
-- The exposure ledger: how often each provider was shown, for neutral rotation among equals.
CREATE TABLE exposure (
    provider_id text PRIMARY KEY,
    shown       bigint NOT NULL DEFAULT 0
);
