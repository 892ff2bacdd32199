-- Erasure and export search every bytea column as text. Most hold UTF-8 (outbox bodies), but
-- some hold binary documents (PDF reports): convert_from would fail on them and stop the
-- erasure. This reads UTF-8 as text and anything else as escaped bytes (never an error).
CREATE FUNCTION bytea_as_text(value bytea) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN convert_from(value, 'UTF8');
EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
    RETURN encode(value, 'escape');
END;
$$;
