"""Helpers that run a service against the real servers: in-process, or as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import uvicorn
from nats.aio.client import Client as NatsClient

from shared.events.base import Envelope
from shared.messaging.publisher import headers_for
from shared.service import ServiceBlueprint, ServiceRuntime, create_app
from werkbank.sinks import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class RunningService:
    base_url: str
    app: Any

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.state.runtime
        return runtime

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=30)


@asynccontextmanager
async def in_process(blueprint: ServiceBlueprint) -> AsyncIterator[RunningService]:
    """Run the service's ASGI app under uvicorn in this event loop, on a free port."""
    port = free_port()
    app = create_app(blueprint)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
    task = asyncio.create_task(server.serve())
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_ready(base_url, task=task)
        yield RunningService(base_url=base_url, app=app)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)


async def wait_until_ready(
    base_url: str, *, timeout: float = 90.0, task: asyncio.Task[Any] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if task is not None and task.done():
                msg = "the service stopped while starting (see the captured log)"
                raise RuntimeError(msg)
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    msg = f"{base_url} not ready after {timeout} s"
    raise TimeoutError(msg)


class ServiceProcess:
    """A service as a separate OS process: ``python -m <module> run`` (or another ``command``)
    with its environment."""

    def __init__(
        self, module: str, env: Mapping[str, str], port_variable: str, command: str = "run"
    ) -> None:
        self.module = module
        self.command = command
        self.port = free_port()
        self.env = {**os.environ, **env, port_variable: str(self.port)}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(env.get("WERKBANK_TEST_LOG", f"/tmp/{module}-{self.port}.log"))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 90.0) -> None:
        log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, self.command],
            env=self.env,
            cwd=REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        await wait_until_ready(self.base_url, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: no goodbye, no acks, no cleanup."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@asynccontextmanager
async def nats_client(url: str) -> AsyncIterator[NatsClient]:
    client = await nats.connect(url)
    try:
        yield client
    finally:
        await client.drain()


async def publish(
    client: NatsClient,
    envelope: Envelope[Any],
    subject: str | None = None,
    *,
    body: bytes | None = None,
) -> Any:
    """Publish through JetStream exactly as the services do (``Nats-Msg-Id`` set)."""
    js = client.jetstream()
    return await js.publish(
        subject or envelope.subject,
        body if body is not None else envelope.to_bytes(),
        headers=headers_for(envelope),
    )


async def eventually(
    probe: Callable[[], Awaitable[bool]], *, timeout: float = 20.0, interval: float = 0.1
) -> None:
    """Wait until ``probe`` holds; fail with a clear message if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await probe():
            return
        await asyncio.sleep(interval)
    msg = f"condition not met within {timeout} s"
    raise AssertionError(msg)
