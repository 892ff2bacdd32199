"""A real CalDAV server for the embedded stack and the tests: Radicale, as a subprocess.

It stands in for a provider's own calendar (booking reads their busy times from it and writes
Werkbank's meetings into it). 127.0.0.1 on a free port, one user with a random password
(htpasswd, plain: local only), storage in the stack's directory; it dies with its parent.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import httpx

from werkbank.sinks import free_port

CALDAV_USER = "anbieter"


class CalDavServer:
    def __init__(self, root: Path, port: int = 0) -> None:
        self.host = "127.0.0.1"
        self.fixed_port = bool(port)
        self.port = port or free_port()
        self.user = CALDAV_USER
        self.password = secrets.token_urlsafe(16)
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from werkbank.stack import _die_with_parent, start_listening

        self.root.mkdir(parents=True, exist_ok=True)
        users = self.root / "users"
        users.write_text(f"{self.user}:{self.password}\n")
        log = (self.root / "radicale.log").open("ab")

        def launch(port: int) -> subprocess.Popen[bytes]:
            args = [
                sys.executable,
                "-m",
                "radicale",
                "--server-hosts",
                f"{self.host}:{port}",
                "--storage-filesystem-folder",
                str(self.root / "collections"),
                "--auth-type",
                "htpasswd",
                "--auth-htpasswd-filename",
                str(users),
                "--auth-htpasswd-encryption",
                "plain",
                "--rights-type",
                "owner_only",
                "--logging-level",
                "warning",
            ]
            return subprocess.Popen(  # noqa: S603
                args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )

        self.process, self.port = start_listening(
            launch, self.host, self.port, fixed=self.fixed_port
        )

    def new_calendar(self, name: str) -> str:
        return create_calendar(self.url, self.user, self.password, name)

    def stop(self) -> None:
        from werkbank.stack import stop_process

        stop_process(self.process)
        self.process = None


def create_calendar(base_url: str, user: str, password: str, name: str) -> str:
    """Creates a calendar collection of the user (MKCALENDAR); its URL."""
    url = f"{base_url}/{user}/{name}/"
    response = httpx.request("MKCALENDAR", url, auth=(user, password), timeout=30)
    if response.status_code != 201:
        msg = f"MKCALENDAR {name}: HTTP {response.status_code}"
        raise RuntimeError(msg)
    return url
