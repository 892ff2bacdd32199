-- Every change to a provider, in order: the in-memory index of each replica follows this log
-- (freshness), and a recorded run can be replayed against the providers as they were then.
CREATE TABLE provider_changes (
    seq         bigserial PRIMARY KEY,
    provider_id text        NOT NULL,
    row         jsonb,      -- NULL: the provider was deleted
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE FUNCTION log_provider_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO provider_changes (provider_id, row) VALUES (OLD.provider_id, NULL);
        RETURN OLD;
    END IF;
    INSERT INTO provider_changes (provider_id, row)
    VALUES (NEW.provider_id,
            jsonb_build_object('doc', NEW.doc, 'booked', NEW.booked, 'quality', NEW.quality));
    RETURN NEW;
END $$;
CREATE TRIGGER providers_logged AFTER INSERT OR UPDATE OR DELETE ON providers
    FOR EACH ROW EXECUTE FUNCTION log_provider_change();
INSERT INTO provider_changes (provider_id, row)
SELECT provider_id, jsonb_build_object('doc', doc, 'booked', booked, 'quality', quality)
FROM providers;

-- Staff decisions that every later run respects: a pin assigns, a block excludes.
CREATE TABLE overrides (
    need_id     text        NOT NULL,
    provider_id text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('pin', 'block')),
    reason      text        NOT NULL DEFAULT '',
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (need_id, provider_id)
);

-- What a run saw, beyond the providers: enough to replay it to the same result.
ALTER TABLE runs ADD COLUMN kind text NOT NULL DEFAULT 'single';
ALTER TABLE runs ADD COLUMN inputs jsonb;
ALTER TABLE runs ALTER COLUMN need_id DROP NOT NULL;
CREATE TABLE taxonomies (
    version text PRIMARY KEY,
    doc     jsonb NOT NULL
);
