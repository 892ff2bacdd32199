-- Indexes for the pages' filters and sorts, so that each page reads its rows in order from an
-- index instead of sorting a whole table (found with bench/bench_console.py).
CREATE INDEX needs_by_title ON needs (lower(title), need_id);
CREATE INDEX needs_declined_twice ON needs (updated_at DESC, need_id DESC) WHERE declines >= 2;
CREATE INDEX proposals_by_provider ON proposals (provider_id, proposed_at DESC);
CREATE INDEX meetings_no_show ON meetings (starts_at, meeting_id) WHERE attendance = 'no_show';
-- The list's order is (at DESC, delivery_id DESC); the old index had delivery_id ascending.
DROP INDEX deliveries_by_status;
CREATE INDEX deliveries_by_status ON deliveries (status, at DESC, delivery_id DESC);
CREATE INDEX deliveries_open ON deliveries (at DESC, delivery_id DESC)
    WHERE status IN ('failed', 'pending');
-- The overview's "without a proposal": kept on the need when its proposals arrive, instead of an
-- anti-join of every proposed need against the proposals on each overview.
ALTER TABLE needs ADD COLUMN no_proposal boolean NOT NULL DEFAULT false;
UPDATE needs SET no_proposal = true
WHERE status = 'proposed' AND last_run_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM proposals p
                  WHERE p.need_id = needs.need_id AND p.run_id = needs.last_run_id);
CREATE INDEX needs_without_proposal ON needs (need_id) WHERE status = 'proposed' AND no_proposal;
