-- Availability: a provider's weekly hours with exceptions, a company's preferred windows.
CREATE TABLE availability (
    party_kind text        NOT NULL CHECK (party_kind IN ('provider', 'company')),
    party_id   text        NOT NULL,
    doc        jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (party_kind, party_id)
);
-- Top-N options: option 0 is the booked slot; options 1..N-1 are held alternatives whose
-- allocations block the same resources (same exclusion constraint) until used or dropped.
ALTER TABLE allocations ADD COLUMN option smallint NOT NULL DEFAULT 0;
CREATE TABLE held_options (
    meeting_id text        NOT NULL REFERENCES meetings (meeting_id),
    option     smallint    NOT NULL CHECK (option > 0),
    starts_at  timestamptz NOT NULL,
    room_id    text,
    room_name  text,
    PRIMARY KEY (meeting_id, option)
);
-- Declines (or requests for another time), one per attendee and version of the meeting.
ALTER TABLE meetings ADD COLUMN declines integer NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN attendance text CHECK (attendance IN ('held', 'no_show'));
CREATE TABLE declines (
    meeting_id  text        NOT NULL REFERENCES meetings (meeting_id),
    sequence    integer     NOT NULL,
    contact_id  text        NOT NULL,
    response    text        NOT NULL,
    comment     text        NOT NULL DEFAULT '',
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('rescheduled', 'cancelled')),
    declined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, sequence, contact_id)
);
-- Feedback after a held meeting: the rating once, the outcome whenever it is known.
CREATE TABLE feedback (
    meeting_id text        NOT NULL REFERENCES meetings (meeting_id),
    contact_id text        NOT NULL,
    rating     smallint    CHECK (rating BETWEEN 1 AND 4),
    outcome    text,
    comment    text        NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (meeting_id, contact_id)
);
