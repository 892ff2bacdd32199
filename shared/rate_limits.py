"""Fixed-window rate limits kept in PostgreSQL, so that they hold across replicas."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

_HIT = """
INSERT INTO rate_limit_hits (bucket, window_start) VALUES ($1, $2)
ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_hits.hits + 1
RETURNING hits
"""
_FORGET = "DELETE FROM rate_limit_hits WHERE window_start < $1"


@dataclass(frozen=True)
class Limit:
    name: str
    hits: int
    window: timedelta


def bucket(limit: Limit, key: str) -> str:
    """A bucket name that holds no personal data (addresses and links are hashed)."""
    return f"{limit.name}:{hashlib.sha256(key.encode('utf-8', 'replace')).hexdigest()[:32]}"


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = window.total_seconds()
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, tz=now.tzinfo)


async def hit(conn: asyncpg.Connection, limit: Limit, key: str, now: datetime) -> int | None:
    """Count one hit; None while within the limit, else the seconds until the window ends."""
    start = window_start(now, limit.window)
    hits: int = await conn.fetchval(_HIT, bucket(limit, key), start)
    if hits <= limit.hits:
        return None
    return max(1, int((start + limit.window - now).total_seconds()) + 1)


async def forget_old(conn: asyncpg.Connection, now: datetime, keep: timedelta) -> None:
    await conn.execute(_FORGET, now - keep)
