-- Emails the SMTP server accepted, written at once (outside the attempt's transaction): if the
-- process dies before that transaction commits, the retry finds the email here and records it
-- as sent instead of sending it again.
CREATE TABLE accepted_emails (
    delivery_id text PRIMARY KEY,
    message_id  text        NOT NULL,
    accepted_at timestamptz NOT NULL DEFAULT now()
);
