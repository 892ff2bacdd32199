"""The CloudNativePG bootstrap SQL, run on a real PostgreSQL: each service migrates its own schema
as its own role, and cannot reach another service's schema nor the public one."""

from __future__ import annotations

import importlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import yaml

from shared.db import create_pool
from shared.service import run_migrations
from tests.deploy.rendering import DEPLOY

pytestmark = pytest.mark.integration

SERVICES = {
    "matching": "MatchingSettings",
    "booking": "BookingSettings",
    "notify": "NotifySettings",
    "console": "ConsoleSettings",
}


def cluster_spec() -> dict[str, Any]:
    docs = yaml.safe_load_all((DEPLOY / "postgres" / "cluster.yaml").read_text(encoding="utf-8"))
    [cluster] = [doc for doc in docs if doc["kind"] == "Cluster"]
    spec: dict[str, Any] = cluster["spec"]
    return spec


def as_role(uri: str, role: str) -> str:
    parts = urlsplit(uri)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}:unused@{host}"))


@pytest.fixture(scope="module")
def superuser_uri() -> Iterator[str]:
    from pgserver import get_server  # type: ignore[attr-defined]

    with tempfile.TemporaryDirectory(prefix="werkbank-cnpg-") as data:
        server = get_server(Path(data), cleanup_mode="stop")
        try:
            database = cluster_spec()["bootstrap"]["initdb"]["database"]
            server.psql(f"CREATE DATABASE {database};")
            uri: str = server.get_uri(database)
            yield uri
        finally:
            server.cleanup()


async def test_each_service_migrates_its_own_schema_and_sees_no_other(superuser_uri: str) -> None:
    spec = cluster_spec()
    admin = await asyncpg.connect(superuser_uri)
    try:
        for statement in spec["bootstrap"]["initdb"]["postInitApplicationSQL"]:
            await admin.execute(statement)
        # What CNPG does next for managed.roles: login and the attributes of the spec.
        for role in spec["managed"]["roles"]:
            flags = " ".join(
                ("" if role[attribute] else "NO") + attribute.upper()
                for attribute in ("login", "superuser", "createdb", "createrole", "replication")
            )
            await admin.execute(f'ALTER ROLE "{role["name"]}" {flags}')
    finally:
        await admin.close()

    for service, settings_name in SERVICES.items():
        app = importlib.import_module(f"services.{service}.app")
        settings_class = getattr(
            importlib.import_module(f"services.{service}.settings"), settings_name
        )
        settings = settings_class(database_url=as_role(superuser_uri, service))
        assert settings.schema_name == service
        assert await run_migrations(settings, app.MIGRATIONS), f"{service} applied no migration"
        assert await run_migrations(settings, app.MIGRATIONS) == []  # and again: nothing to do

    for service in SERVICES:
        conn = await asyncpg.connect(as_role(superuser_uri, service))
        try:
            owner = await conn.fetchval(
                "SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'outbox'",
                service,
            )
            assert owner == service
            for other in SERVICES:
                if other == service:
                    continue
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.fetch(f'SELECT * FROM "{other}".outbox')
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("CREATE TABLE public.sneaky (id int)")
            assert not await conn.fetchval(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            )
        finally:
            await conn.close()


async def test_the_migration_url_gives_up_on_a_held_lock(superuser_uri: str) -> None:
    """The migrate init containers' URL (``*_MIGRATE_DATABASE_URL``) carries ``lock_timeout``:
    a migration behind a long lock fails instead of queueing every query behind itself."""
    script = (DEPLOY / "secrets.example.sh").read_text(encoding="utf-8")
    [suffix] = set(re.findall(r"_MIGRATE_DATABASE_URL=\$url(\?lock_timeout=\w+)", script))
    admin = await asyncpg.connect(superuser_uri)
    try:
        await admin.execute("CREATE TABLE IF NOT EXISTS public.locked (id int)")
        # pgserver's URI has a query already (the socket directory): join the parameter to it.
        url = superuser_uri + ("&" + suffix[1:] if "?" in superuser_uri else suffix)
        migrate_pool = await create_pool(url, "public", min_size=1, max_size=1)
        try:
            assert await migrate_pool.fetchval("SHOW lock_timeout") == "5s"
            async with admin.transaction():
                await admin.execute("LOCK TABLE public.locked IN ACCESS EXCLUSIVE MODE")
                with pytest.raises(asyncpg.LockNotAvailableError):
                    await migrate_pool.execute("ALTER TABLE public.locked ADD COLUMN note text")
        finally:
            await migrate_pool.close()
    finally:
        await admin.close()
