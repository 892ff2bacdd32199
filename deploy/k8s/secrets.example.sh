#!/usr/bin/env bash
# Creates the Secrets Werkbank needs, with fresh random passwords. Nothing secret is in git:
# run this once per cluster (or feed the same keys from your secret manager / External Secrets).
#   NAMESPACE=werkbank bash deploy/k8s/secrets.example.sh
# Re-running fails on existing Secrets; to rotate, delete and recreate the one Secret (CNPG picks
# up a new role password; restart NATS pods or let the config reloader do it for NATS users).
set -euo pipefail
NS="${NAMESPACE:-werkbank}"
NATS_NS="${NATS_NAMESPACE:-nats}"
PG_HOST="werkbank-pg-rw"   # the CNPG Cluster's read-write Service
rand() { openssl rand -hex 24; }

declare -A PG NATS
for service in matching booking notify; do PG[$service]=$(rand); NATS[$service]=$(rand); done
NATS[console]=$(rand)
NATS[ops]=$(rand)

# 1. NATS users (namespace of the NATS Helm release): one key per user, read by the server as
#    $MATCHING_NATS_PASSWORD ... (deploy/k8s/nats/values.yaml, container.env).
kubectl -n "$NATS_NS" create secret generic nats-users \
  --from-literal=matching="${NATS[matching]}" \
  --from-literal=booking="${NATS[booking]}" \
  --from-literal=notify="${NATS[notify]}" \
  --from-literal=console="${NATS[console]}" \
  --from-literal=ops="${NATS[ops]}"

# 2. PostgreSQL roles, managed by CloudNativePG (managed.roles[].passwordSecret).
for service in matching booking notify; do
  kubectl -n "$NS" create secret generic "werkbank-pg-$service" \
    --type=kubernetes.io/basic-auth \
    --from-literal=username="$service" \
    --from-literal=password="${PG[$service]}"
  kubectl -n "$NS" label secret "werkbank-pg-$service" cnpg.io/reload=true
done

# 3. Object storage for PostgreSQL backups (barmanObjectStore.s3Credentials).
kubectl -n "$NS" create secret generic werkbank-pg-backup \
  --from-literal=ACCESS_KEY_ID="${PG_BACKUP_ACCESS_KEY_ID:?set PG_BACKUP_ACCESS_KEY_ID}" \
  --from-literal=ACCESS_SECRET_KEY="${PG_BACKUP_SECRET_ACCESS_KEY:?set PG_BACKUP_SECRET_ACCESS_KEY}"

# 4. One Secret per service (envFrom): database URL with its own role, NATS password, API token.
kubectl -n "$NS" create secret generic werkbank-matching \
  --from-literal=MATCHING_DATABASE_URL="postgresql://matching:${PG[matching]}@$PG_HOST:5432/werkbank" \
  --from-literal=MATCHING_NATS_PASSWORD="${NATS[matching]}" \
  --from-literal=MATCHING_STAFF_TOKEN="$(rand)"
kubectl -n "$NS" create secret generic werkbank-booking \
  --from-literal=BOOKING_DATABASE_URL="postgresql://booking:${PG[booking]}@$PG_HOST:5432/werkbank" \
  --from-literal=BOOKING_NATS_PASSWORD="${NATS[booking]}" \
  --from-literal=BOOKING_STAFF_TOKEN="$(rand)" \
  --from-literal=BOOKING_RSVP_SECRET="$(rand)"
notify_args=(
  --from-literal=NOTIFY_DATABASE_URL="postgresql://notify:${PG[notify]}@$PG_HOST:5432/werkbank"
  --from-literal=NOTIFY_NATS_PASSWORD="${NATS[notify]}"
  --from-literal=NOTIFY_STAFF_TOKEN="$(rand)"
  --from-literal=NOTIFY_SMTP_HOST="${NOTIFY_SMTP_HOST:?set NOTIFY_SMTP_HOST}"
  --from-literal=NOTIFY_SMTP_PORT="${NOTIFY_SMTP_PORT:-587}"
  --from-literal=NOTIFY_SMTP_STARTTLS=true
)
# Optional settings: only those that are set (an empty value is not "unset" to the services).
for name in NOTIFY_SMTP_USERNAME NOTIFY_SMTP_PASSWORD NOTIFY_SMS_GATEWAY_URL NOTIFY_SMS_API_KEY; do
  if [[ -n "${!name:-}" ]]; then notify_args+=(--from-literal="$name=${!name}"); fi
done
kubectl -n "$NS" create secret generic werkbank-notify "${notify_args[@]}"

echo "Secrets created in $NS and $NATS_NS. The ops NATS password is in Secret $NATS_NS/nats-users (key ops)."
