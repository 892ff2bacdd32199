"""The ``werkbank`` command for staff and operators.

``werkbank demo`` starts the embedded stack and the three services as separate processes, shows
that they are healthy, and stops everything again. ``werkbank up`` keeps them running until
``werkbank down`` (or Ctrl-C).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from werkbank.stack import EmbeddedStack, StackInfo

app = typer.Typer(help="Werkbank: matching, booking and notifications for the digitalisation desk.")
console = Console()

SERVICES = {"matching": 8081, "booking": 8082, "notify": 8083}
STATE = Path("var/up.json")
REPO = Path(__file__).resolve().parents[1]


@dataclass
class ServiceHandle:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _service_env(info: StackInfo, name: str, port: int, token: str) -> dict[str, str]:
    prefix = f"{name.upper()}_"
    return {
        **os.environ,
        **info.service_env(prefix),
        f"{prefix}HTTP_PORT": str(port),
        f"{prefix}STAFF_TOKEN": token,
        f"{prefix}LOG_JSON": "true",
    }


def start_services(info: StackInfo, token: str, log_dir: Path) -> list[ServiceHandle]:
    log_dir.mkdir(parents=True, exist_ok=True)
    handles = []
    for name, port in SERVICES.items():
        log_path = log_dir / f"{name}.log"
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", f"services.{name}", "run"],
            env=_service_env(info, name, port, token),
            cwd=REPO,
            stdout=log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        handles.append(ServiceHandle(name, port, process, log_path))
    return handles


def wait_until_healthy(
    handles: list[ServiceHandle], timeout: float = 60.0
) -> dict[str, dict[str, object]]:
    deadline = time.monotonic() + timeout
    status: dict[str, dict[str, object]] = {}
    with httpx.Client(timeout=2) as client:
        for handle in handles:
            while True:
                if handle.process.poll() is not None:
                    msg = f"{handle.name} exited while starting; see {handle.log_path}"
                    raise RuntimeError(msg)
                try:
                    answer = client.get(f"{handle.url}/readyz")
                    if answer.status_code == 200:
                        status[handle.name] = answer.json()
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    msg = f"{handle.name} not ready after {timeout:.0f} s; see {handle.log_path}"
                    raise TimeoutError(msg)
                time.sleep(0.2)
    return status


def stop_services(handles: list[ServiceHandle]) -> None:
    for handle in handles:
        if handle.process.poll() is None:
            handle.process.terminate()
    for handle in handles:
        try:
            handle.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            handle.process.kill()
            handle.process.wait()


def health_table(status: dict[str, dict[str, object]], handles: list[ServiceHandle]) -> Table:
    table = Table(title="Werkbank services")
    for column in ("service", "url", "pid", "ready", "checks"):
        table.add_column(column)
    for handle in handles:
        answer = status.get(handle.name, {})
        checks = answer.get("checks", {})
        checks_text = ", ".join(f"{k}: {'ok' if v else 'down'}" for k, v in dict(checks).items())  # type: ignore[call-overload]
        table.add_row(
            handle.name, handle.url, str(handle.process.pid), str(answer.get("status")), checks_text
        )
    return table


@app.command()
def demo() -> None:
    """Start the embedded stack and the three services, show they are healthy, stop everything."""
    root = Path("var/demo").resolve()
    stack = EmbeddedStack(root / "stack")
    handles: list[ServiceHandle] = []
    try:
        with console.status("starting NATS, PostgreSQL and the SMTP and SMS sinks…"):
            info = stack.start()
        console.print(f"[green]embedded stack up[/] (NATS {info.nats_url})")
        with console.status("starting matching, booking and notify…"):
            handles = start_services(info, token=os.urandom(16).hex(), log_dir=root / "logs")
            status = wait_until_healthy(handles)
        console.print(health_table(status, handles))
        console.print(f"Service logs: {root / 'logs'}")
    finally:
        stop_services(handles)
        stack.stop()
    console.print("[green]stopped[/]: nothing is left running")


@app.command()
def up(
    state_file: Annotated[Path, typer.Option(help="where the addresses are written")] = STATE,
) -> None:
    """Start the embedded stack and the services; keep them running until `werkbank down`."""
    root = Path("var/up").resolve()
    stack = EmbeddedStack(root / "stack")
    token = os.urandom(16).hex()
    handles: list[ServiceHandle] = []
    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        info = stack.start()
        handles = start_services(info, token=token, log_dir=root / "logs")
        status = wait_until_healthy(handles)
        console.print(health_table(status, handles))
        state_file.parent.mkdir(parents=True, exist_ok=True)
        state_file.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "staff_token": token,
                    "services": {h.name: h.url for h in handles},
                    "stack": info.__dict__,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        console.print(f"staff token and addresses in {state_file}; stop with `werkbank down`")
        while not stopping:
            time.sleep(0.3)
    finally:
        stop_services(handles)
        stack.stop()
        state_file.unlink(missing_ok=True)


@app.command()
def down(state_file: Annotated[Path, typer.Option()] = STATE) -> None:
    """Stop what `werkbank up` started."""
    if not state_file.exists():
        console.print("nothing to stop: no var/up.json")
        return
    pid = int(json.loads(state_file.read_text(encoding="utf-8"))["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        state_file.unlink(missing_ok=True)
        console.print("the stack was not running any more")
        return
    deadline = time.monotonic() + 60
    while state_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    console.print("[green]stopped[/]")


def main() -> None:
    app()
