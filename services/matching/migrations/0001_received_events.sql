-- What the service has received, per event type (a skeleton table; the service grows from here).
CREATE TABLE received_events (
    event_type text PRIMARY KEY,
    count      bigint NOT NULL
);
