-- Erasure requests (GDPR Art. 17): ids only, never the person's name, address or number.
CREATE TABLE erasure_requests (
    request_id   text PRIMARY KEY,
    scope        text        NOT NULL CHECK (scope IN ('contact', 'organisation')),
    contact_ids  text[]      NOT NULL,
    party_ids    text[]      NOT NULL DEFAULT '{}',
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
-- Each service's confirmation, with what it changed (rows per table, messages per stream).
CREATE TABLE erasure_confirmations (
    request_id   text        NOT NULL REFERENCES erasure_requests (request_id),
    service      text        NOT NULL,
    rows         jsonb       NOT NULL,
    streams      jsonb       NOT NULL,
    confirmed_at timestamptz NOT NULL,
    PRIMARY KEY (request_id, service)
);
