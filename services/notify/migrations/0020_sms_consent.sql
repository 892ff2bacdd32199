-- SMS consent per number: when and how it was given, and whether and how it was withdrawn.
-- A withdrawn number gets no SMS at all, whoever it belongs to.
CREATE TABLE sms_consents (
    phone         text PRIMARY KEY,
    contact_id    text,
    given_at      timestamptz,
    given_how     text,
    withdrawn_at  timestamptz,
    withdrawn_how text
);
