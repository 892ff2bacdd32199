"""What notify keeps, and for how long (defaults; ``NOTIFY_RETENTION_DAYS`` overrides)."""

from __future__ import annotations

from shared.retention import RetentionRule, retention_loop
from shared.service import ServiceRuntime

_DONE = "('sent', 'failed', 'dead', 'withdrawn', 'erased')"
RULES = (
    RetentionRule(
        "email_bodies",
        30,
        (
            "UPDATE deliveries SET payload = '{\"purged\": true}'::jsonb "
            f"WHERE status IN {_DONE} AND updated_at < now() - $1::interval "
            "AND NOT payload ? 'purged'",
        ),
    ),
    RetentionRule(
        "delivery_records",
        365,
        (
            "DELETE FROM accepted_emails WHERE accepted_at < now() - $1::interval",
            f"DELETE FROM deliveries WHERE status IN {_DONE} AND updated_at < now() - $1::interval",
        ),
    ),
)


async def retention(runtime: ServiceRuntime) -> None:
    await retention_loop(runtime, RULES)
