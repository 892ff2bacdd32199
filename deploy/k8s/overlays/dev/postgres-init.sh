#!/bin/sh
# Runs once, when the dev database is created (docker-entrypoint-initdb.d): a login role and a
# schema per service, as postgres/cluster.yaml does for CloudNativePG in prod. The passwords come
# from the Secret werkbank-pg-dev (secrets.example.sh with PROFILE=dev).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
REVOKE ALL ON DATABASE werkbank FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE ROLE matching LOGIN CONNECTION LIMIT 20 PASSWORD '${MATCHING_PASSWORD}';
CREATE ROLE booking LOGIN CONNECTION LIMIT 20 PASSWORD '${BOOKING_PASSWORD}';
CREATE ROLE notify LOGIN CONNECTION LIMIT 20 PASSWORD '${NOTIFY_PASSWORD}';
CREATE ROLE console LOGIN CONNECTION LIMIT 20 PASSWORD '${CONSOLE_PASSWORD}';
GRANT CONNECT, CREATE ON DATABASE werkbank TO matching, booking, notify, console;
CREATE SCHEMA matching AUTHORIZATION matching;
CREATE SCHEMA booking AUTHORIZATION booking;
CREATE SCHEMA notify AUTHORIZATION notify;
CREATE SCHEMA console AUTHORIZATION console;
REVOKE ALL ON SCHEMA matching, booking, notify, console FROM PUBLIC;
SQL
