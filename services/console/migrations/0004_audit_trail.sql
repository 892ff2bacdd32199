-- The audit trail across services: one row per audit.action.recorded event.
CREATE TABLE audit_trail (
    audit_id      text PRIMARY KEY,
    service       text NOT NULL,
    recorded_at   timestamptz NOT NULL,
    actor_subject text NOT NULL,
    actor_name    text NOT NULL,
    actor_client  text,
    action        text NOT NULL,
    targets       jsonb NOT NULL,
    request_id    text NOT NULL,
    outcome       text NOT NULL,
    http_status   integer NOT NULL
);
CREATE INDEX audit_trail_by_time ON audit_trail (recorded_at DESC, audit_id DESC);
CREATE INDEX audit_trail_by_actor ON audit_trail (actor_subject, recorded_at DESC);
CREATE INDEX audit_trail_by_action ON audit_trail (action, recorded_at DESC);
CREATE INDEX audit_trail_by_target ON audit_trail USING gin (targets jsonb_path_ops);
