-- Calendar clients' answers read from the organizer mailbox (iMIP). Each mail is handled once,
-- by whichever replica claims its key first, also after a crash between handling and flagging.
CREATE TABLE inbound_mails (
    mail_key     text PRIMARY KEY,  -- the Message-ID, or a digest of the mail without one
    outcome      text        NOT NULL,
    meeting_id   text,
    processed_at timestamptz NOT NULL DEFAULT now()
);
-- How far each folder has been read: only newer UIDs are fetched (per UIDVALIDITY).
CREATE TABLE mailbox_cursors (
    folder       text PRIMARY KEY,
    uid_validity bigint NOT NULL,
    last_uid     bigint NOT NULL
);
-- A new time an attendee proposed from their calendar client (iTIP COUNTER), for staff.
CREATE TABLE counter_proposals (
    proposal_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meeting_id     text        NOT NULL REFERENCES meetings (meeting_id),
    contact_id     text        NOT NULL,
    sequence       integer     NOT NULL,
    proposed_start timestamptz,
    proposed_end   timestamptz,
    comment        text        NOT NULL DEFAULT '',
    received_at    timestamptz NOT NULL DEFAULT now()
);
