"""The ``werkbank`` command for staff and operators.

``werkbank demo`` starts the embedded stack and the three services as separate processes, shows
that they are healthy, and stops everything again. ``werkbank up`` keeps them running until
``werkbank down`` (or Ctrl-C).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import httpx
import typer
from rich.console import Console
from rich.table import Table

from werkbank import login as login_store
from werkbank.demo import print_summary, run_demo
from werkbank.idp import CLI_CLIENT_ID
from werkbank.sample_data import generate
from werkbank.stack import EmbeddedStack, StackInfo

app = typer.Typer(help="Werkbank: matching, booking and notifications for the digitalisation desk.")
console = Console()

SERVICES = {"matching": 8081, "booking": 8082, "notify": 8083, "console": 8080}
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
        f"{prefix}STATIC_TOKEN_ENABLED": "true",
        f"{prefix}LOG_JSON": "true",
        **({"BOOKING_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"} if name == "booking" else {}),
        **(_console_env(info, port) if name == "console" else {}),
    }


def _console_env(info: StackInfo, port: int) -> dict[str, str]:
    """The console calls the services' staff APIs and replays dead letters as the operator."""
    urls = {
        f"CONSOLE_{name.upper()}_URL": f"http://127.0.0.1:{other}"
        for name, other in SERVICES.items()
        if name != "console"
    }
    return {
        **urls,
        "CONSOLE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "CONSOLE_REPLAY_NATS_URL": info.ops_nats_url,
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


def _console_url(handles: list[ServiceHandle]) -> str:
    return next((h.url for h in handles if h.name == "console"), "http://127.0.0.1:8080")


def wait_until_healthy(
    handles: list[ServiceHandle], timeout: float = 180.0
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
def demo(
    timeout: Annotated[float, typer.Option(help="seconds the flow may take")] = 120.0,
) -> None:
    """Run the main job on sample data over the embedded stack, show the result, stop everything."""
    root = Path("var/demo").resolve()
    shutil.rmtree(root, ignore_errors=True)  # every demo starts from scratch
    stack = EmbeddedStack(root / "stack")
    handles: list[ServiceHandle] = []
    try:
        with console.status("starting NATS, PostgreSQL and the SMTP and SMS sinks…"):
            info = stack.start()
        console.print(f"[green]embedded stack up[/] (NATS {info.nats_url})")
        token = os.urandom(16).hex()
        with console.status("starting matching, booking and notify…"):
            handles = start_services(info, token=token, log_dir=root / "logs")
            status = wait_until_healthy(handles)
        console.print(health_table(status, handles))
        result = asyncio.run(
            run_demo({h.name: h.url for h in handles}, token, console, timeout=timeout)
        )
        print_summary(result, console, Path(info.mail_dir), Path(info.sms_file))
        console.print(f"Service logs: {root / 'logs'}")
        console.print(
            f"Staff console (German, English switch): [bold]{_console_url(handles)}[/] - "
            "`make up` keeps it running at http://127.0.0.1:8080"
        )
        print_sign_in_users(info.oidc_users)
    finally:
        stop_services(handles)
        stack.stop()
    console.print("[green]stopped[/]: nothing is left running")


@app.command()
def up(
    state_file: Annotated[Path, typer.Option(help="where the addresses are written")] = STATE,
    detach: Annotated[
        bool, typer.Option("--detach", help="return once everything is ready")
    ] = False,
    nats_users: Annotated[
        bool,
        typer.Option(
            "--nats-users", help="each service its own NATS user and permissions, as deployed"
        ),
    ] = False,
) -> None:
    """Start the embedded stack and the services; keep them running until `werkbank down`."""
    if _running(state_file):
        console.print(f"already running (see {state_file}); stop it with `werkbank down`")
        return
    if detach:
        _up_in_background(state_file, nats_users)
        return
    root = Path("var/up").resolve()
    stack = EmbeddedStack(root / "stack", nats_users=nats_users)
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


def _running(state_file: Path) -> bool:
    if not state_file.exists():
        return False
    try:
        os.kill(int(json.loads(state_file.read_text(encoding="utf-8"))["pid"]), 0)
    except (ProcessLookupError, ValueError, KeyError):
        state_file.unlink(missing_ok=True)
        return False
    return True


def print_sign_in_users(users: dict[str, dict[str, Any]]) -> None:
    """Who can sign in to the console at the embedded stack's local OpenID provider."""
    if not users:
        return
    table = Table(title="Sign in to the console (local sample users, this machine only)")
    table.add_column("user")
    table.add_column("password")
    table.add_column("name")
    table.add_column("roles")
    for username, user in users.items():
        table.add_row(username, user["password"], user["name"], ", ".join(user["roles"]))
    console.print(table)


def _up_in_background(state_file: Path, nats_users: bool, timeout: float = 120.0) -> None:
    log_path = Path("var/up/up.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", "from werkbank.cli import main; main()", "up",
         "--state-file", str(state_file), *(["--nats-users"] if nats_users else [])],
        stdout=log_path.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in this terminal does not stop it; `werkbank down` does
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    with console.status("starting NATS, PostgreSQL, the sinks and the three services…"):
        while not state_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                console.print(f"[red]the stack did not start[/]; the end of {log_path}:")
                console.print("\n".join(log_path.read_text(errors="replace").splitlines()[-20:]))
                raise typer.Exit(1)
            time.sleep(0.3)
    state = json.loads(state_file.read_text(encoding="utf-8"))
    table = Table(title="Running")
    table.add_column("service")
    table.add_column("address")
    for name, url in state["services"].items():
        table.add_row(name, url if name == "console" else f"{url}/docs")
    console.print(table)
    console.print(f"Staff console: [bold]{state['services'].get('console', '')}[/]")
    print_sign_in_users(state["stack"].get("oidc_users") or {})
    console.print(
        f"mail: {state['stack']['mail_dir']}  SMS: {state['stack']['sms_file']}\n"
        f"staff token in {state_file}; load the sample data with `.venv/bin/werkbank sample`, "
        "then try `.venv/bin/werkbank needs`; stop with `make down`"
    )


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


def _connection(state_file: Path = STATE) -> tuple[dict[str, str], str]:
    """Service URLs and a bearer token.

    The token: ``WERKBANK_TOKEN`` (or the static ``WERKBANK_STAFF_TOKEN``), else the one
    ``werkbank login`` stored, else the static token of ``werkbank up``."""
    urls = {
        name: os.environ.get(f"WERKBANK_{name.upper()}_URL", f"http://127.0.0.1:{port}")
        for name, port in SERVICES.items()
    }
    stored = login_store.load()
    token = (
        os.environ.get("WERKBANK_TOKEN")
        or os.environ.get("WERKBANK_STAFF_TOKEN")
        or (stored.access_token if stored else None)
    )
    if state_file.exists():
        state = json.loads(state_file.read_text(encoding="utf-8"))
        urls = {
            **state["services"],
            **{k: v for k, v in urls.items() if f"WERKBANK_{k.upper()}_URL" in os.environ},
        }
        token = token or state["staff_token"]
    if token is None:
        console.print(
            "[red]not signed in[/]: run `werkbank login`, set WERKBANK_TOKEN, "
            "or start the stack with `werkbank up`"
        )
        raise typer.Exit(2)
    return urls, token


@app.command()
def login(
    issuer: Annotated[
        str | None, typer.Option(help="the OpenID provider (default: the one of `werkbank up`)")
    ] = None,
    client_id: Annotated[str, typer.Option(help="this machine client's id")] = CLI_CLIENT_ID,
    client_secret: Annotated[
        str | None,
        typer.Option(envvar="WERKBANK_CLIENT_SECRET", help="asked for when not given"),
    ] = None,
    state_file: Annotated[Path, typer.Option()] = STATE,
) -> None:
    """Get an access token (client credentials) for the staff APIs; it is kept until it expires."""
    if issuer is None and state_file.exists():
        stack = json.loads(state_file.read_text(encoding="utf-8"))["stack"]
        issuer = stack.get("oidc_issuer") or None
        client_secret = client_secret or stack.get("oidc_clients", {}).get(client_id)
    if not issuer:
        console.print("[red]no issuer[/]: give --issuer (or start the stack with `werkbank up`)")
        raise typer.Exit(2)
    if not client_secret:
        client_secret = typer.prompt(f"client secret of {client_id}", hide_input=True)
    try:
        token = login_store.fetch_token(issuer, client_id, str(client_secret))
    except (PermissionError, httpx.HTTPError, KeyError, ValueError) as exc:
        console.print(f"[red]login failed[/]: {exc}")
        raise typer.Exit(1) from None
    path = login_store.save(token)
    minutes = max(0, int((token.expires_at - time.time()) / 60))
    console.print(f"[green]signed in[/] as {client_id} at {issuer}; token in {path}, {minutes} min")


@app.command()
def logout() -> None:
    """Forget the token `werkbank login` stored."""
    console.print("signed out" if login_store.forget() else "no stored token")


def _request(service: str, method: str, path: str, **kwargs: Any) -> Any:
    urls, token = _connection()
    try:
        answer = httpx.request(
            method,
            f"{urls[service]}{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            **kwargs,  # type: ignore[arg-type]
        )
    except httpx.ConnectError:
        console.print(
            f"[red]{service} is not reachable at {urls[service]}[/]: start it with `make up`"
        )
        raise typer.Exit(3) from None
    if answer.status_code >= 400:
        console.print(f"[red]{service} answered {answer.status_code}[/]: {answer.text}")
        raise typer.Exit(1)
    return answer.json()


def _show(
    rows: Any, as_json: bool, columns: tuple[str, ...], title: str, caption: str | None = None
) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    table = Table(title=title, caption=caption)
    for column in columns:
        table.add_column(column)
    for row in rows if isinstance(rows, list) else [rows]:
        table.add_row(*(str(row.get(column, "")) for column in columns))
    console.print(table)


JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]


class ImportKind(StrEnum):
    companies = "companies"
    providers = "providers"
    needs = "needs"


@app.command("import")
def import_file(
    kind: Annotated[ImportKind, typer.Argument(help="what the file holds")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv or .json")],
    as_json: JsonOption = False,
) -> None:
    """Import companies, providers or needs from CSV or JSON: every row valid, or nothing.

    CSV: one row per record with the field names as header; lists separated by ';'; levels as
    'code:level;…'; one contact from contact_name, contact_email, contact_phone, contact_locale.
    Import companies before their needs."""
    urls, token = _connection()
    content_type = "text/csv" if file.suffix.lower() == ".csv" else "application/json"
    try:
        answer = httpx.post(
            f"{urls['matching']}/api/matching/import/{kind.value}",
            content=file.read_bytes(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
            timeout=120,
        )
    except httpx.ConnectError:
        console.print(f"[red]matching is not reachable at {urls['matching']}[/]: `make up`")
        raise typer.Exit(3) from None
    if answer.status_code == 422 and not as_json:
        problem = answer.json()
        console.print(f"[red]{file.name}: {problem.get('detail', 'refused')}[/]")
        _show(problem.get("errors", []), False, ("row", "field", "message"), "Errors")
        raise typer.Exit(1)
    if answer.status_code >= 400:
        console.print(f"[red]matching answered {answer.status_code}[/]: {answer.text}")
        raise typer.Exit(1)
    _show(answer.json(), as_json, ("kind", "created", "updated"), f"Imported {file.name}")


@app.command()
def batch(as_json: JsonOption = False) -> None:
    """Allocate all open needs at once under provider capacity (pins and blocks respected):
    a background job; its result is committed once it is ready."""
    job = _request("matching", "POST", "/api/matching/batch", json={})
    while job.get("status") in {"queued", "running"}:
        time.sleep(0.5)
        job = _request("matching", "GET", f"/api/matching/batch/{job['job_id']}")
    if job.get("status") != "ready":
        console.print(
            f"[red]batch job {job['job_id']} ended {job['status']}[/]: {job.get('error')}"
        )
        raise typer.Exit(1)
    result = _request("matching", "POST", f"/api/matching/batch/{job['job_id']}/commit")
    if as_json:
        _show(result, True, (), "")
        return
    _show(result["assignments"], False, ("need_id", "provider_id", "score", "pinned"), "Assigned")
    if result["unassigned"]:
        _show(result["unassigned"], False, ("need_id", "reason"), "Not assigned")


@app.command()
def replay(run_id: str, as_json: JsonOption = False) -> None:
    """Replay a recorded matching run and say whether it gives the same result."""
    _show(
        _request("matching", "POST", f"/api/matching/runs/{run_id}/replay"),
        as_json,
        ("run_id", "same"),
        "Replay",
    )


@app.command()
def sample(as_json: JsonOption = False) -> None:
    """Load the demo's sample region (60 KMU with their needs, 40 providers and mentors)."""
    data = generate()
    for kind in SAMPLE_KINDS:  # companies before the needs they have
        for key, value in data[kind].items():
            _request("matching", "PUT", f"/api/matching/{kind}/{key}", json=value)
    counts = [{"kind": kind, "loaded": len(data[kind])} for kind in SAMPLE_KINDS]
    _show(counts, as_json, ("kind", "loaded"), "Sample data")


SAMPLE_KINDS = ("companies", "providers", "needs")


@app.command()
def needs(as_json: JsonOption = False) -> None:
    """List the needs."""
    _show(
        _request("matching", "GET", "/api/matching/needs"),
        as_json,
        ("need_id", "company_id", "title", "status"),
        "Needs",
    )


PROPOSAL_NOTE = (
    "Scores within the tolerance (0.02 by default) count as equally good (a tie band); among "
    "them the provider with the fewest first places in that band so far comes first, so that "
    "the office favours no one."
)


def _with_reasons(rows: Any) -> Any:
    """Each proposal with its three weightiest reasons, in German, for the table."""
    if not isinstance(rows, list):
        return rows
    return [
        {
            **row,
            "why": "; ".join(
                part["reason_de"]
                for part in sorted(
                    row.get("breakdown", []), key=lambda p: p["contribution"], reverse=True
                )[:3]
            ),
        }
        for row in rows
    ]


@app.command()
def match(need_id: str, as_json: JsonOption = False) -> None:
    """Run matching for one need and show the proposals."""
    found = _request("matching", "POST", f"/api/matching/needs/{need_id}/match")
    _show(
        found if as_json else _with_reasons(found),
        as_json,
        ("proposal_id", "rank", "provider_id", "score", "why"),
        f"Proposals for {need_id}",
        caption=PROPOSAL_NOTE,
    )


@app.command()
def proposals(need_id: str, as_json: JsonOption = False) -> None:
    """Show the latest proposals of a need."""
    found = _request("matching", "GET", f"/api/matching/needs/{need_id}/proposals")
    _show(
        found if as_json else _with_reasons(found),
        as_json,
        ("proposal_id", "rank", "provider_id", "score", "status", "why"),
        f"Proposals for {need_id}",
        caption=PROPOSAL_NOTE,
    )


@app.command()
def accept(proposal_id: str, as_json: JsonOption = False) -> None:
    """Accept a proposal: booking arranges the meeting."""
    _show(
        _request("matching", "POST", f"/api/matching/proposals/{proposal_id}/accept"),
        as_json,
        ("match_id", "status"),
        "Accepted",
    )


@app.command()
def meetings(as_json: JsonOption = False) -> None:
    """List the meetings."""
    found = _request("booking", "GET", "/api/booking/meetings")
    _show(
        found if as_json else _with_local_times(found),
        as_json,
        ("meeting_id", "match_id", "status", "sequence", "when", "place"),
        "Meetings",
        caption="Times in Europe/Berlin",
    )


def _with_local_times(rows: Any) -> Any:
    """Each meeting with its start in Europe/Berlin and its room (or venue), for the table."""
    if not isinstance(rows, list):
        return rows
    shown = []
    for row in rows:
        start = datetime.fromisoformat(str(row["starts_at"])).astimezone(ZoneInfo("Europe/Berlin"))
        place = row.get("details", {}).get("place", {})
        shown.append(
            {
                **row,
                "when": start.strftime("%a %d.%m.%Y %H:%M"),
                "place": place.get("room_name") or place.get("name", ""),
            }
        )
    return shown


@app.command()
def reschedule(meeting_id: str, start: str, as_json: JsonOption = False) -> None:
    """Move a meeting to START (ISO 8601 with offset, e.g. 2026-12-01T10:00:00+01:00)."""
    _show(
        _request(
            "booking",
            "POST",
            f"/api/booking/meetings/{meeting_id}/reschedule",
            json={"start": start},
        ),
        as_json,
        ("meeting_id", "start"),
        "Rescheduled",
    )


@app.command()
def cancel(meeting_id: str, reason: str = "", as_json: JsonOption = False) -> None:
    """Cancel a meeting: every attendee gets a METHOD:CANCEL."""
    _show(
        _request(
            "booking", "POST", f"/api/booking/meetings/{meeting_id}/cancel", json={"reason": reason}
        ),
        as_json,
        ("meeting_id", "status"),
        "Cancelled",
    )


@app.command()
def deliveries(meeting_id: str | None = None, as_json: JsonOption = False) -> None:
    """Search the delivery log (oldest first)."""
    params = {"meeting_id": meeting_id} if meeting_id else {}
    found = _request("notify", "GET", "/api/notify/deliveries", params=params)
    _show(
        found if as_json else _readable_deliveries(found),
        as_json,
        ("delivery_id", "meeting_id", "event", "contact_id", "channel", "status", "attempts",
         "at", "last_error"),
        "Deliveries",
        caption="Times in Europe/Berlin",
    )  # fmt: skip


def _readable_deliveries(rows: Any) -> Any:
    if not isinstance(rows, list):
        return rows
    berlin = ZoneInfo("Europe/Berlin")
    return [
        {
            **row,
            "event": str(row.get("event_type", "")).rsplit(".", 1)[-1],
            "at": datetime.fromisoformat(str(row["updated_at"]))
            .astimezone(berlin)
            .strftime("%d.%m. %H:%M:%S"),
            "last_error": row.get("last_error") or "",
        }
        for row in sorted(rows, key=lambda row: str(row.get("created_at", "")))
    ]


async def _dead_letters(nats_url: str, replay: bool) -> list[dict[str, Any]]:
    import nats
    from nats.js.api import ConsumerConfig, DeliverPolicy

    from shared.events.base import Envelope
    from shared.events.deadletter import EventDeadLettered

    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        sub = await js.pull_subscribe(
            "deadletter.>",
            stream="DEADLETTER",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
        )
        letters: list[dict[str, Any]] = []
        while True:
            try:
                batch = await sub.fetch(200, timeout=0.5)
            except TimeoutError:
                break
            for msg in batch:
                await msg.ack()
                letter = Envelope[EventDeadLettered].model_validate_json(msg.data).data
                row = {
                    "subject": msg.subject,
                    "consumer": letter.consumer,
                    "original_subject": letter.original_subject,
                    "event_id": letter.original_msg_id,
                    "deliveries": letter.deliveries,
                    "reason": letter.reason,
                    "at": letter.dead_lettered_at.isoformat(),
                }
                if replay:
                    row["replayed"] = await _replay(js, letter)
                letters.append(row)
        await sub.unsubscribe()
        return letters
    finally:
        await client.close()


async def _replay(js: Any, letter: Any) -> bool | str:
    if not letter.original_subject:
        return "no original subject"
    # Only the original's own headers; Nats-* ones belong to the earlier delivery. A new
    # message id, or JetStream would drop the replay as a duplicate.
    headers = {k: v for k, v in letter.original_headers.items() if not k.startswith("Nats-")}
    headers["Nats-Msg-Id"] = f"{letter.original_msg_id}-replay-{uuid.uuid4().hex}"
    try:
        await js.publish(letter.original_subject, letter.original_body.encode(), headers=headers)
    except Exception as exc:  # one bad letter must not stop the others
        return f"not replayed: {type(exc).__name__}"
    return True


@app.command("dead-letters")
def dead_letters(
    replay: Annotated[bool, typer.Option(help="publish each original again, after a fix")] = False,
    nats_url: Annotated[str | None, typer.Option(help="default: from `werkbank up`")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the dead letters (reason, consumer, deliveries), and replay them with --replay."""
    if nats_url is None:
        if not STATE.exists():
            console.print("[red]no NATS address[/]: pass --nats-url or start `werkbank up`")
            raise typer.Exit(2)
        nats_url = StackInfo(**json.loads(STATE.read_text(encoding="utf-8"))["stack"]).ops_nats_url
    rows = asyncio.run(_dead_letters(nats_url, replay))
    columns = ("consumer", "event_id", "deliveries", "reason", "at")
    _show(rows, as_json, (*columns, "replayed") if replay else columns, "Dead letters")


ERASURE_COLUMNS = ("request_id", "scope", "status", "waiting_for", "requested_at", "completed_at")


@app.command()
def erase(
    contact_id: Annotated[str | None, typer.Option(help="the contact to erase")] = None,
    email: Annotated[str | None, typer.Option(help="the contact, by email address")] = None,
    company_id: Annotated[str | None, typer.Option(help="a company, with its contacts")] = None,
    provider_id: Annotated[str | None, typer.Option(help="a provider, with its contacts")] = None,
    as_json: JsonOption = False,
) -> None:
    """Erase a person or an organisation from every service (GDPR Art. 17; role admin)."""
    body = {
        key: value
        for key, value in {
            "contact_id": contact_id,
            "email": email,
            "company_id": company_id,
            "provider_id": provider_id,
        }.items()
        if value
    }
    if len(body) != 1:
        console.print(
            "[red]give exactly one of[/] --contact-id, --email, --company-id, --provider-id"
        )
        raise typer.Exit(2)
    answer = _request("matching", "POST", "/api/matching/privacy/erasures", json=body)
    _show(answer, as_json, ("request_id", "scope", "status"), "Erasure requested")


@app.command()
def erasures(
    request_id: Annotated[str | None, typer.Argument(help="one request; all when omitted")] = None,
    as_json: JsonOption = False,
) -> None:
    """Erasure requests: done once every service confirmed, overdue when one has not in time."""
    path = "/api/matching/privacy/erasures" + (f"/{request_id}" if request_id else "")
    _show(_request("matching", "GET", path), as_json, ERASURE_COLUMNS, "Erasure requests")
