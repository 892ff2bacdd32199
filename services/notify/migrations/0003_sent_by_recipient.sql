-- The per-recipient rate limits count what was sent to one address recently.
CREATE INDEX deliveries_sent_by_recipient ON deliveries (channel, recipient, updated_at)
    WHERE status = 'sent';
