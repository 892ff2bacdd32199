-- Exposure by position, per tie band (a band is keyed by its members' ids). ``firsts`` counts first
-- places (what gets the meeting); ``attention`` adds 1/log2(1 + rank) for each place shown, so a
-- fifth place counts less than a first. Within a band the fewest first places lead, then the least
-- attention. The table ``exposure`` (any appearance) is no longer written.
CREATE TABLE band_exposure (
    band        text             NOT NULL,
    provider_id text             NOT NULL,
    firsts      bigint           NOT NULL DEFAULT 0,
    attention   double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (band, provider_id)
);
ALTER TABLE proposals ADD COLUMN tie jsonb;  -- tied_with and the reasons; NULL when not tied
