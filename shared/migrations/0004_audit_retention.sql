-- Audit records are kept as long as the office's policy says (retention kind "audit_records"),
-- then purged by the retention job. The log stays append-only for everyone else: a DELETE passes
-- only for rows older than the cut-off the job sets in its own transaction
-- (werkbank.audit_purge_before); UPDATE and TRUNCATE are refused as before.
CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    purge_before timestamptz := nullif(current_setting('werkbank.audit_purge_before', true), '');
BEGIN
    IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW' AND purge_before IS NOT NULL THEN
        IF OLD.recorded_at < purge_before THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
