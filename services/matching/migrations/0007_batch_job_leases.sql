-- Batch jobs are claimed by a runner (a worker process, or the API replica when no worker is
-- configured) under a lease that its heartbeat extends. A job whose lease ran out (its runner
-- died) is claimed again by another runner; only the lease holder may finish it, so a job ends
-- once. `attempts` counts the claims: a job that keeps killing its runner fails in the end.
ALTER TABLE batch_jobs
    ADD COLUMN lease_owner      text,
    ADD COLUMN lease_expires_at timestamptz,
    ADD COLUMN attempts         integer NOT NULL DEFAULT 0;

CREATE INDEX batch_jobs_open ON batch_jobs (created_at)
    WHERE status IN ('queued', 'running', 'cancelling');
