"""PostgreSQL access: one pool per service, its search_path pinned to the service's schema."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg

Pool: TypeAlias = asyncpg.Pool
Connection: TypeAlias = asyncpg.Connection

# What a lost connection or a restarting server raises: worth a new connection and a retry.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(dsn: str, schema: str, *, min_size: int = 1, max_size: int = 10) -> Pool:
    pool: Pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        server_settings={"search_path": f"{schema},public", "application_name": schema},
    )
    return pool


@asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[Connection]:
    """The unit of work: everything done on the connection commits together, or not at all."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn


def like_escaped(text: str) -> str:
    """``text`` for a LIKE/ILIKE pattern, its ``%``, ``_`` and ``\\`` taken literally (the
    default escape character is the backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def ping(pool: Pool) -> bool:
    value: Any = await pool.fetchval("SELECT 1")
    return bool(value == 1)
