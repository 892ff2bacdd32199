"""The migration runner under concurrent start-ups, and a stack that leaves nothing behind."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import nats
import psutil
import pytest
from imapclient import IMAPClient

from shared.migrations import MigrationChecksumError, migrate, migrations_for
from tests.support.probe import MIGRATIONS
from werkbank.imap import ImapServer
from werkbank.stack import EmbeddedStack, StackInfo


@pytest.mark.integration
async def test_ten_replicas_migrating_at_once_apply_each_migration_exactly_once(
    stack: StackInfo,
) -> None:
    schema = f"m_{uuid.uuid4().hex[:10]}"
    connections = [await asyncpg.connect(stack.database_url) for _ in range(10)]
    try:
        results = await asyncio.gather(
            *(migrate(conn, schema, migrations_for(MIGRATIONS)) for conn in connections)
        )
        applied = [version for result in results for version in result]
        expected = [migration.version for migration in migrations_for(MIGRATIONS)]
        assert sorted(applied) == sorted(expected)
        rows = await connections[0].fetch(f"SELECT version FROM {schema}.schema_migrations")
        assert sorted(row["version"] for row in rows) == sorted(expected)
    finally:
        for conn in connections:
            await conn.close()


@pytest.mark.integration
async def test_a_migration_edited_after_it_was_applied_is_refused(
    stack: StackInfo, tmp_path: Path
) -> None:
    schema = f"m_{uuid.uuid4().hex[:10]}"
    (tmp_path / "0001_t.sql").write_text("CREATE TABLE t (id int);")
    conn = await asyncpg.connect(stack.database_url)
    try:
        await migrate(conn, schema, migrations_for(tmp_path))
        (tmp_path / "0001_t.sql").write_text("CREATE TABLE t (id bigint);")
        with pytest.raises(MigrationChecksumError):
            await migrate(conn, schema, migrations_for(tmp_path))
    finally:
        await conn.close()


@pytest.mark.integration
def test_the_embedded_stack_stops_every_process_it_started(tmp_path: Path) -> None:
    stack = EmbeddedStack(tmp_path / "stack")
    info = stack.start()
    started = [
        proc
        for proc in psutil.process_iter(["cmdline"])
        if info.root in " ".join(proc.info.get("cmdline") or [])
    ]
    assert any("nats-server" in " ".join(proc.cmdline()) for proc in started)
    assert any("postgres" in " ".join(proc.cmdline()) for proc in started)
    stack.stop()
    survivors = [proc for proc in started if proc.is_running() and proc.status() != "zombie"]
    assert survivors == []


async def test_the_embedded_stack_can_give_each_service_its_own_nats_user(tmp_path: Path) -> None:
    with EmbeddedStack(tmp_path / "secured", nats_users=True) as secured:
        info = secured.info
        assert info is not None
        env = info.service_env("BOOKING_")
        assert env["BOOKING_NATS_USER"] == "booking"
        anonymous_refused = False
        try:
            await asyncio.wait_for(
                nats.connect(info.nats_url, allow_reconnect=False, connect_timeout=2), 5
            )
        except Exception:  # any refusal will do
            anonymous_refused = True
        assert anonymous_refused
        client = await nats.connect(
            info.nats_url, user="booking", password=env["BOOKING_NATS_PASSWORD"]
        )
        assert client.is_connected
        await client.close()
        ops = await nats.connect(info.ops_nats_url)
        assert ops.is_connected
        await ops.close()


def test_the_imap_server_takes_a_password_that_starts_with_a_dash(tmp_path: Path) -> None:
    server = ImapServer(tmp_path / "imap.log")
    server.password = "-" + server.password  # one generated password in 64 starts so
    server.start()
    try:
        with IMAPClient(server.host, port=server.port, ssl=False) as client:
            answer = client.login(server.user, server.password)
    finally:
        server.stop()
    assert b"Authentication successful" in answer
