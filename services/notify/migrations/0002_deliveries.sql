CREATE TABLE deliveries (
    delivery_id  text PRIMARY KEY,
    event_id     uuid        NOT NULL,
    event_type   text        NOT NULL,
    meeting_id   text,
    channel      text        NOT NULL,
    recipient    text        NOT NULL,
    contact_id   text        NOT NULL,
    status       text        NOT NULL DEFAULT 'pending',
    attempts     integer     NOT NULL DEFAULT 0,
    message_id   text,
    last_error   text,
    payload      jsonb       NOT NULL,
    not_before   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, channel, recipient)
);
CREATE INDEX deliveries_by_meeting ON deliveries (meeting_id);
CREATE INDEX deliveries_by_contact ON deliveries (contact_id);
CREATE INDEX deliveries_held ON deliveries (not_before) WHERE status = 'held';
