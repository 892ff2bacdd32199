-- A service's part of an export may arrive in several pieces (a large history would exceed the
-- NATS payload limit as one message): one row per piece, whole when all `parts` are in.
ALTER TABLE export_parts ADD COLUMN part integer NOT NULL DEFAULT 1;
ALTER TABLE export_parts ADD COLUMN parts integer NOT NULL DEFAULT 1;
ALTER TABLE export_parts DROP CONSTRAINT export_parts_pkey;
ALTER TABLE export_parts ADD PRIMARY KEY (request_id, service, part);
