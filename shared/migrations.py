"""The migration runner: one schema per service, safe when several replicas start at once.

Migrations are plain ``.sql`` files, applied in name order. The shared ones (outbox, inbox)
come first, then the service's own. An advisory lock serialises concurrent runners.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

SHARED_MIGRATIONS = Path(__file__).parent / "migrations"

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationChecksumError(RuntimeError):
    """An applied migration's file was changed afterwards; refuse to guess."""


def discover(*folders: tuple[str, Path]) -> list[Migration]:
    found: list[Migration] = []
    for prefix, folder in folders:
        found.extend(
            Migration(f"{prefix}/{path.stem}", path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.sql"))
        )
    return found


def migrations_for(service_folder: Path) -> list[Migration]:
    return discover(("shared", SHARED_MIGRATIONS), ("service", service_folder))


async def migrate(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> list[str]:
    """Apply what is missing; returns the versions applied now."""
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
        await conn.execute(_LEDGER)
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
        done = {row["version"]: row["checksum"] for row in rows}
        for migration in migrations:
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    msg = f"migration {migration.version} changed after it was applied"
                    raise MigrationChecksumError(msg)
                continue
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)",
                migration.version,
                migration.checksum,
            )
            applied_now.append(migration.version)
    if applied_now:
        log.info("migrated", extra={"schema": schema, "versions": applied_now})
    return applied_now
