-- Who did what, when, from where, with which outcome: one row per staff write (issue 13).
-- Append-only: locally the service runs as the table's owner, so privileges cannot stop it;
-- the trigger refuses every UPDATE, DELETE and TRUNCATE, whoever asks.
CREATE TABLE audit_log (
    seq             bigserial   PRIMARY KEY,
    audit_id        uuid        NOT NULL UNIQUE,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    actor_subject   text        NOT NULL,
    actor_name      text        NOT NULL,
    actor_client    text,
    auth_method     text        NOT NULL,
    action          text        NOT NULL,
    targets         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    request_id      text        NOT NULL,
    client_address  text,
    outcome         text        NOT NULL CHECK (outcome IN ('succeeded', 'refused', 'failed')),
    http_status     integer     NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_subject, recorded_at);
CREATE INDEX audit_log_targets ON audit_log USING gin (targets);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
