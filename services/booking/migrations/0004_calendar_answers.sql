-- Answers are tied to the version (SEQUENCE) of the meeting they were given for: the current
-- answer per attendee carries its version; an answer to an older version, or one that repeats
-- the attendee's last answer to that version, changes nothing there.
ALTER TABLE responses ADD COLUMN sequence integer NOT NULL DEFAULT 0;
-- Every distinct answer, from the RSVP page or a calendar client's reply (iMIP).
CREATE TABLE answers (
    answer_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meeting_id  text        NOT NULL REFERENCES meetings (meeting_id),
    contact_id  text        NOT NULL,
    sequence    integer     NOT NULL,
    response    text        NOT NULL,
    channel     text        NOT NULL CHECK (channel IN ('link', 'imip')),
    outdated    boolean     NOT NULL,
    answered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX answers_by_attendee ON answers (meeting_id, contact_id, sequence, answer_id);
