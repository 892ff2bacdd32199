-- Batch allocations run as background jobs in a worker process: queued -> running -> ready
-- (a result staff preview) -> committed, or cancelling -> cancelled, or failed. The replica that
-- runs a job writes its progress and a heartbeat; any replica answers for it.
CREATE TABLE batch_jobs (
    job_id       text PRIMARY KEY,
    status       text        NOT NULL CHECK (status IN
                   ('queued', 'running', 'ready', 'committed', 'cancelling', 'cancelled', 'failed')),
    done         integer     NOT NULL DEFAULT 0,
    total        integer     NOT NULL DEFAULT 0,
    request      jsonb       NOT NULL,
    result       jsonb,
    error        text,
    run_id       text,
    requested_by text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
