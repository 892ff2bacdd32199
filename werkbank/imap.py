"""A real IMAP server for the embedded stack: pymap with its in-memory (dict) backend.

It holds the organizer mailbox that calendar clients' answers arrive in (booking reads it over
IMAP). A subprocess on a free port of 127.0.0.1, one user with a random password, no TLS
(local only); it dies with the process that started it.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
from pathlib import Path

from werkbank.sinks import free_port

ORGANIZER_MAILBOX_USER = "werkbank"


def pymap_binary() -> str:
    candidate = Path(sys.executable).parent / "pymap"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("pymap")
    if found is None:
        msg = "pymap not found: install the dev dependencies (make setup)"
        raise RuntimeError(msg)
    return found


class ImapServer:
    def __init__(self, log_file: Path, port: int = 0) -> None:
        self.host = "127.0.0.1"
        self.fixed_port = bool(port)
        self.port = port or free_port()
        self.user = ORGANIZER_MAILBOX_USER
        self.password = secrets.token_urlsafe(16)
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from werkbank.stack import _die_with_parent, start_listening

        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")

        def launch(port: int) -> subprocess.Popen[bytes]:
            args = [
                pymap_binary(),
                "--host",
                self.host,
                "--port",
                str(port),
                "--no-tls",
                "dict",
                # One argument each: a password that starts with "-" (token_urlsafe makes
                # one in 64) would otherwise be read as an option.
                f"--demo-user={self.user}",
                f"--demo-password={self.password}",
            ]
            return subprocess.Popen(  # noqa: S603
                args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )

        self.process, self.port = start_listening(
            launch, self.host, self.port, fixed=self.fixed_port
        )

    def stop(self) -> None:
        from werkbank.stack import stop_process

        stop_process(self.process)
        self.process = None
