-- The change log carries how many ratings a provider has, so that an explanation can tell
-- "no feedback yet" (the neutral prior) from feedback that averages out at the same value.
CREATE OR REPLACE FUNCTION log_provider_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO provider_changes (provider_id, row) VALUES (OLD.provider_id, NULL);
        RETURN OLD;
    END IF;
    INSERT INTO provider_changes (provider_id, row)
    VALUES (NEW.provider_id,
            jsonb_build_object('doc', NEW.doc, 'booked', NEW.booked, 'quality', NEW.quality,
                               'ratings', NEW.ratings));
    RETURN NEW;
END $$;
