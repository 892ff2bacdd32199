"""Retention (GDPR Art. 5(1)(e)): scheduled jobs that purge what is kept longer than needed.

Each service lists its rules (a kind of data, a default number of days, and the SQL that
purges rows older than ``now() - $1``); ``<P>RETENTION_DAYS`` overrides the days per kind.
One replica at a time runs a round: the others find the advisory lock taken and skip it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Counter

from shared.db import Pool, transaction
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)

PURGED = Counter(
    "werkbank_retention_purged_total",
    "Rows deleted or emptied by the retention jobs, per kind of data",
    ["service", "kind"],
)
_TRY_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))"


@dataclass(frozen=True)
class RetentionRule:
    kind: str
    default_days: float
    statements: tuple[str, ...]
    """Run in order with ``$1`` = the age (an interval); the last one's row count is reported."""


AUDIT_RECORDS = RetentionRule(
    "audit_records",
    400,
    (
        # The audit log refuses every DELETE but the retention job's, and that only of rows
        # older than this cut-off (shared migration 0004).
        "SELECT set_config('werkbank.audit_purge_before', (now() - $1::interval)::text, true)",
        "DELETE FROM audit_log WHERE recorded_at < now() - $1::interval",
    ),
)
"""Staff actions: 400 days by default, like the AUDIT stream (a year of reviews and a month's
grace); the office sets its own with ``<P>RETENTION_DAYS='{"audit_records": N}'``."""


def _rows(status: str) -> int:
    parts = status.split()
    return int(parts[-1]) if parts and parts[-1].isdigit() else 0


async def run_retention(
    pool: Pool,
    service: str,
    schema: str,
    rules: Sequence[RetentionRule],
    days: dict[str, float] | None = None,
) -> dict[str, int] | None:
    """One round; rows purged per kind, or None when another replica holds the round."""
    overrides = days or {}
    purged: dict[str, int] = {}
    async with transaction(pool) as conn:
        if not await conn.fetchval(_TRY_LOCK, f"werkbank:retention:{schema}"):
            return None
        for rule in rules:
            age = timedelta(days=overrides.get(rule.kind, rule.default_days))
            status = ""
            for statement in rule.statements:
                status = await conn.execute(statement, age)
            purged[rule.kind] = _rows(status)
    for kind, count in purged.items():
        if count:
            PURGED.labels(service, kind).inc(count)
    return purged


async def retention_loop(runtime: ServiceRuntime, rules: Sequence[RetentionRule]) -> None:
    """The service's rules and the audit log's, every ``retention_interval_seconds``."""
    settings = runtime.settings
    every = (*rules, AUDIT_RECORDS)
    while True:
        purged = await run_retention(
            runtime.pool, runtime.name, settings.schema_name, every, settings.retention_days
        )
        if purged:
            log.info("retention round", extra={"purged": purged})
        await asyncio.sleep(settings.retention_interval_seconds)


__all__ = ["AUDIT_RECORDS", "PURGED", "RetentionRule", "retention_loop", "run_retention"]
