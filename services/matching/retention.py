"""What matching keeps, and for how long (defaults; ``MATCHING_RETENTION_DAYS`` overrides).

The exposure ledger (counts per provider) is never purged: neutrality stays provable.
"""

from __future__ import annotations

from shared.retention import RetentionRule, retention_loop
from shared.service import ServiceRuntime

RULES = (
    RetentionRule(
        "exports",
        30,
        (
            "DELETE FROM export_parts WHERE request_id IN (SELECT request_id FROM "
            "export_requests WHERE requested_at < now() - $1::interval)",
            "DELETE FROM export_requests WHERE requested_at < now() - $1::interval",
        ),
    ),
    RetentionRule(
        "closed_needs",
        3 * 365,
        ("DELETE FROM needs WHERE status <> 'open' AND updated_at < now() - $1::interval",),
    ),
    RetentionRule(
        "runs",
        3 * 365,
        (
            "DELETE FROM proposals WHERE run_id IN "
            "(SELECT run_id FROM runs WHERE created_at < now() - $1::interval)",
            "DELETE FROM runs WHERE created_at < now() - $1::interval",
        ),
    ),
    RetentionRule(
        "erasure_requests",
        3 * 365,
        (
            "DELETE FROM erasure_confirmations WHERE request_id IN (SELECT request_id FROM "
            "erasure_requests WHERE completed_at < now() - $1::interval)",
            "DELETE FROM erasure_requests WHERE completed_at < now() - $1::interval",
        ),
    ),
)


async def retention(runtime: ServiceRuntime) -> None:
    await retention_loop(runtime, RULES)
