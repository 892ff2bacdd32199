"""What booking keeps, and for how long (defaults; ``BOOKING_RETENTION_DAYS`` overrides)."""

from __future__ import annotations

from shared.retention import RetentionRule, retention_loop
from shared.service import ServiceRuntime

_OLD = "(SELECT meeting_id FROM meetings WHERE ends_at < now() - $1::interval)"
_PARTS = (
    "answers",
    "counter_proposals",
    "inbound_mails",
    "feedback",
    "declines",
    "held_options",
    "reminders",
    "responses",
    "allocations",
)
RULES = (
    RetentionRule(
        "closed_meetings",
        3 * 365,
        (
            *(f"DELETE FROM {table} WHERE meeting_id IN {_OLD}" for table in _PARTS),
            "DELETE FROM meetings WHERE ends_at < now() - $1::interval",
        ),
    ),
)


async def retention(runtime: ServiceRuntime) -> None:
    await retention_loop(runtime, RULES)
