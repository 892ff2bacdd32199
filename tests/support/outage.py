"""A unix-socket proxy in front of PostgreSQL that the test can cut: a real database outage
(open connections drop, new ones are refused) without stopping the shared server."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

SOCKET = ".s.PGSQL.5432"


class CuttablePostgres:
    def __init__(self, database_url: str, directory: Path) -> None:
        parts = urlsplit(database_url)
        query = parse_qs(parts.query)
        self._target = str(Path(query["host"][0]) / SOCKET)
        self.directory = directory
        self.database_url = urlunsplit(parts._replace(query=f"host={directory}"))
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self.directory / SOCKET)
        )

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        (self.directory / SOCKET).unlink(missing_ok=True)
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(self._target)
        self._writers |= {writer, up_writer}
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()
