"""What the console keeps, and for how long (defaults; ``CONSOLE_RETENTION_DAYS`` overrides).

The audit trail is a copy of the services' audit records: it goes after the same period.
"""

from __future__ import annotations

from shared.retention import AUDIT_RECORDS, RetentionRule, retention_loop
from shared.service import ServiceRuntime

RULES = (
    RetentionRule(
        "audit_trail",
        AUDIT_RECORDS.default_days,
        ("DELETE FROM audit_trail WHERE recorded_at < now() - $1::interval",),
    ),
)


async def retention(runtime: ServiceRuntime) -> None:
    await retention_loop(runtime, RULES)
