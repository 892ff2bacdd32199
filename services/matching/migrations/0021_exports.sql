-- Access requests (GDPR Art. 15): each service's part, assembled here. Personal data by nature:
-- kept 30 days (retention kind "exports"), and scrubbed like every table on erasure.
CREATE TABLE export_requests (
    request_id   text PRIMARY KEY,
    contact_ids  text[]      NOT NULL,
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE export_parts (
    request_id   text        NOT NULL REFERENCES export_requests (request_id),
    service      text        NOT NULL,
    records      jsonb       NOT NULL,
    assembled_at timestamptz NOT NULL,
    PRIMARY KEY (request_id, service)
);
