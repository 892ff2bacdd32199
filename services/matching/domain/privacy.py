"""Where an erasure request stands: pure rules, no I/O."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum


class ErasureStatus(StrEnum):
    REQUESTED = "requested"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    OVERDUE = "overdue"


def erasure_status(
    *,
    requested_at: datetime,
    confirmed_by: Collection[str],
    services: Collection[str],
    now: datetime,
    overdue_after: timedelta,
) -> ErasureStatus:
    """Done only when every service confirmed; overdue when one has not within the limit."""
    if set(services) <= set(confirmed_by):
        return ErasureStatus.DONE
    if now - requested_at > overdue_after:
        return ErasureStatus.OVERDUE
    return ErasureStatus.IN_PROGRESS if confirmed_by else ErasureStatus.REQUESTED


def missing_confirmations(confirmed_by: Collection[str], services: Collection[str]) -> list[str]:
    return sorted(set(services) - set(confirmed_by))
