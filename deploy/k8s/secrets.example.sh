#!/usr/bin/env bash
# Creates the Secrets Werkbank needs, with fresh random passwords. Nothing secret is in git:
# run this once per cluster (or feed the same keys from your secret manager / External Secrets).
#   bash deploy/k8s/secrets.example.sh                  # prod: namespaces werkbank and nats
#   PROFILE=dev bash deploy/k8s/secrets.example.sh      # overlays/dev: everything in werkbank-dev
# Re-running fails on existing Secrets; to rotate, delete and recreate the one Secret, then:
# CNPG picks up a new role password by itself (label cnpg.io/reload); the services read theirs at
# start (kubectl rollout restart deploy/<service>); NATS reads the user passwords from environment
# variables, which its config reloader does not see (kubectl -n nats rollout restart statefulset/nats).
set -euo pipefail
PROFILE="${PROFILE:-prod}"
case "$PROFILE" in
  prod) NS="${NAMESPACE:-werkbank}"; NATS_NS="${NATS_NAMESPACE:-nats}"; PG_HOST="werkbank-pg-rw" ;;
  dev) NS="${NAMESPACE:-werkbank-dev}"; NATS_NS="$NS"; PG_HOST="postgres" ;;
  *) echo "PROFILE must be prod or dev" >&2; exit 2 ;;
esac
SERVICES=(matching booking notify console)
rand() { openssl rand -hex 24; }

declare -A PG NATS
for service in "${SERVICES[@]}"; do PG[$service]=$(rand); NATS[$service]=$(rand); done
NATS[ops]=$(rand)

# 1. NATS users (namespace of the NATS Helm release): one key per user, read by the server as
#    $MATCHING_NATS_PASSWORD ... (deploy/k8s/nats/values.yaml, container.env).
nats_args=()
for user in "${SERVICES[@]}" ops; do nats_args+=(--from-literal="$user=${NATS[$user]}"); done
kubectl -n "$NATS_NS" create secret generic nats-users "${nats_args[@]}"

# 2. PostgreSQL roles. prod: managed by CloudNativePG (managed.roles[].passwordSecret);
#    dev: read by the dev database's init script (overlays/dev/postgres-init.sh).
if [[ "$PROFILE" == prod ]]; then
  for service in "${SERVICES[@]}"; do
    kubectl -n "$NS" create secret generic "werkbank-pg-$service" \
      --type=kubernetes.io/basic-auth \
      --from-literal=username="$service" \
      --from-literal=password="${PG[$service]}"
    kubectl -n "$NS" label secret "werkbank-pg-$service" cnpg.io/reload=true
  done
  # 3. Object storage for PostgreSQL backups (the Barman Cloud plugin's ObjectStore).
  kubectl -n "$NS" create secret generic werkbank-pg-backup \
    --from-literal=ACCESS_KEY_ID="${PG_BACKUP_ACCESS_KEY_ID:?set PG_BACKUP_ACCESS_KEY_ID}" \
    --from-literal=ACCESS_SECRET_KEY="${PG_BACKUP_SECRET_ACCESS_KEY:?set PG_BACKUP_SECRET_ACCESS_KEY}"
  # 4. The CA of the NATS client certificate (cert-manager, nats/certificates.yaml), for the
  #    services' *_NATS_TLS_CA. A public certificate, kept in a Secret like the rest.
  kubectl -n "$NATS_NS" wait certificate/nats-server-tls --for=condition=Ready --timeout=2m
  kubectl -n "$NS" create secret generic werkbank-nats-ca \
    --from-literal=ca.crt="$(kubectl -n "$NATS_NS" get secret nats-server-tls -o jsonpath='{.data.ca\.crt}' | base64 -d)"
else
  kubectl -n "$NS" create secret generic werkbank-pg-dev \
    --from-literal=werkbank="$(rand)" \
    --from-literal=matching="${PG[matching]}" \
    --from-literal=booking="${PG[booking]}" \
    --from-literal=notify="${PG[notify]}" \
    --from-literal=console="${PG[console]}"
fi

# 5. One Secret per service (envFrom): its database URL with its own role, the same URL with a
#    lock_timeout for the migrate init container (a migration waiting for a lock fails and is
#    retried instead of queueing every query behind it), its NATS password. No static staff
#    token: staff authenticate at the identity provider (OIDC; <P>STATIC_TOKEN_ENABLED stays false).
db_args() {
  local service=$1 prefix=${1^^}
  local url="postgresql://$service:${PG[$service]}@$PG_HOST:5432/werkbank"
  echo --from-literal="${prefix}_DATABASE_URL=$url" \
    --from-literal="${prefix}_MIGRATE_DATABASE_URL=$url?lock_timeout=5s" \
    --from-literal="${prefix}_NATS_PASSWORD=${NATS[$service]}"
}
# shellcheck disable=SC2046  # the values are hex, without spaces
kubectl -n "$NS" create secret generic werkbank-matching $(db_args matching)

booking_args=(
  $(db_args booking)
  # The key of the RSVP and feedback links: the same for every replica, kept across restarts.
  --from-literal=BOOKING_RSVP_SECRET="$(rand)"
)
# Replies to invitations over IMAP (iMIP), if a mailbox is given; the password only here.
# Providers' calendar passwords, a JSON object by reference name ({"acme-dav": "…"}); staff
# register a calendar with the name, never the password.
for name in BOOKING_IMAP_HOST BOOKING_IMAP_USER BOOKING_IMAP_PASSWORD BOOKING_CALENDAR_SECRETS; do
  if [[ -n "${!name:-}" ]]; then booking_args+=(--from-literal="$name=${!name}"); fi
done
kubectl -n "$NS" create secret generic werkbank-booking "${booking_args[@]}"

if [[ "$PROFILE" == prod ]]; then
  notify_args=(
    $(db_args notify)
    --from-literal=NOTIFY_SMTP_HOST="${NOTIFY_SMTP_HOST:?set NOTIFY_SMTP_HOST}"
    --from-literal=NOTIFY_SMTP_PORT="${NOTIFY_SMTP_PORT:-587}"
    --from-literal=NOTIFY_SMTP_STARTTLS=true
  )
else
  notify_args=($(db_args notify))   # Mailpit in the namespace (overlays/dev)
fi
# Optional settings: only those that are set (an empty value is not "unset" to the services).
for name in NOTIFY_SMTP_USERNAME NOTIFY_SMTP_PASSWORD NOTIFY_SMS_GATEWAY_URL NOTIFY_SMS_API_KEY; do
  if [[ -n "${!name:-}" ]]; then notify_args+=(--from-literal="$name=${!name}"); fi
done
kubectl -n "$NS" create secret generic werkbank-notify "${notify_args[@]}"

# The console encrypts its session cookies and signs in at the identity provider as the confidential
# client werkbank-console (identity/werkbank-realm.json; the secret is the client's in Keycloak).
kubectl -n "$NS" create secret generic werkbank-console \
  $(db_args console) \
  --from-literal=CONSOLE_SESSION_SECRET="$(rand)" \
  --from-literal=CONSOLE_OIDC_CLIENT_SECRET="${CONSOLE_OIDC_CLIENT_SECRET:?set CONSOLE_OIDC_CLIENT_SECRET (Keycloak: client werkbank-console, Credentials)}"

echo "Secrets created in $NS and $NATS_NS. The ops NATS password is in Secret $NATS_NS/nats-users (key ops)."
