"""Local stand-ins for the outside world: an SMTP sink and an SMS gateway sink.

Both are real servers (aiosmtpd, and an HTTP server from the standard library) that write what
they receive to files. Tests can tell them to answer with errors for a while.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

log = logging.getLogger(__name__)


@dataclass
class _Faults:
    """Scripted answers: each entry is used once, in order, before normal service resumes."""

    queue: deque[tuple[int, str]] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, code: int, text: str, times: int) -> None:
        with self.lock:
            self.queue.extend([(code, text)] * times)

    def pop(self) -> tuple[int, str] | None:
        with self.lock:
            return self.queue.popleft() if self.queue else None

    def clear(self) -> None:
        with self.lock:
            self.queue.clear()


class _MailHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        fault = self.sink.faults.pop()
        if fault is not None:
            code, text = fault
            return f"{code} {text}"
        raw = envelope.original_content or b""
        self.sink.store(raw, list(envelope.rcpt_tos))
        return "250 OK: queued"


@dataclass(frozen=True)
class SmtpSecurity:
    """How the sink protects itself: STARTTLS or implicit TLS, and an optional login."""

    context: ssl.SSLContext
    implicit_tls: bool = False
    login: tuple[str, str] | None = None


class SmtpSink:
    """An SMTP server on 127.0.0.1 that writes each message to ``<dir>/<n>.eml``."""

    def __init__(
        self,
        directory: Path,
        port: int = 0,
        host: str = "127.0.0.1",
        security: SmtpSecurity | None = None,
    ) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        self.security = security
        self.faults = _Faults()
        self.logins = 0
        self._count = 0
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.port == 0:
            self.port = free_port(self.host)
        self._controller = Controller(
            _MailHandler(self),
            hostname=self.host,
            port=self.port,
            ready_timeout=10,
            **self._security_options(),
        )
        self._controller.start()

    def _security_options(self) -> dict[str, Any]:
        security = self.security
        if security is None:
            return {}
        if security.implicit_tls:
            options: dict[str, Any] = {"ssl_context": security.context}
        else:
            options = {"tls_context": security.context, "require_starttls": True}
        if security.login is not None:
            options |= {
                "authenticator": self._authenticate,
                "auth_required": True,
                # aiosmtpd only counts STARTTLS as TLS; an implicit-TLS socket is one too.
                "auth_require_tls": not security.implicit_tls,
            }
        return options

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        login = self.security.login if self.security else None
        if login is None:
            return AuthResult(success=False, handled=False)
        user, password = login
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        if ok:
            self.logins += 1
        return AuthResult(success=ok, handled=False)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def fail_next(self, code: int, text: str = "Try again later", times: int = 1) -> None:
        self.faults.push(code, text, times)

    def store(self, raw: bytes, recipients: list[str]) -> Path:
        with self._lock:
            self._count += 1
            path = self.directory / f"{time.time_ns()}-{self._count:06d}.eml"
        header = "".join(f"X-Sink-Recipient: {rcpt}\r\n" for rcpt in recipients).encode()
        # Written aside and renamed: whoever watches the folder never sees half a message.
        partial = path.with_suffix(".part")
        partial.write_bytes(header + raw)
        partial.replace(path)
        return path

    def messages(self) -> list[EmailMessage]:
        return [read_eml(path) for path in sorted(self.directory.glob("*.eml"))]


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


class SmsSink:
    """An HTTP SMS gateway on 127.0.0.1: ``POST /messages`` with JSON, one JSON line per SMS."""

    def __init__(self, path: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.path = path
        self.host = host
        self.port = port
        self.faults = _Faults()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._keys: dict[str, str] = {}
        self._count = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/messages"

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        if self.port == 0:
            self.port = free_port(self.host)
        app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])
        config = uvicorn.Config(
            app, host=self.host, port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                msg = f"the SMS sink did not start on port {self.port}"
                raise RuntimeError(msg)
            time.sleep(0.01)

    async def _receive(self, request: Request) -> JSONResponse:
        body = await request.body()
        fault = self.faults.pop()
        if fault is not None:
            headers = {"Retry-After": "1"} if fault[0] in (429, 503) else None
            return JSONResponse({"error": fault[1]}, fault[0], headers=headers)
        try:
            payload = _parse_sms_body(body, request.headers.get("content-type", ""))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        key = request.headers.get("idempotency-key")
        known = self.known_id(key)
        if known is not None:  # like real gateways: the same key is accepted once
            return JSONResponse({"status": "queued", "id": known}, 200)
        record = {"received_at": time.time(), "path": request.url.path, **payload}
        return JSONResponse({"status": "queued", "id": self.append(record, key)}, 201)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None

    @property
    def count(self) -> int:
        """How many SMS the gateway accepted since it started."""
        with self._lock:
            return self._count

    def known_id(self, key: str | None) -> str | None:
        with self._lock:
            return self._keys.get(key) if key else None

    def append(self, record: dict[str, Any], key: str | None = None) -> str:
        line = json.dumps(record, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            self._count += 1
            message_id = f"sms-{self._count}"
            if key:
                self._keys[key] = message_id
            return message_id

    def fail_next(self, code: int, text: str = "Too Many Requests", times: int = 1) -> None:
        self.faults.push(code, text, times)

    @staticmethod
    def post_inbound(webhook_url: str, sender: str, text: str, secret: str) -> int:
        """An SMS *to* the office, posted to a webhook as the generic gateway does; the status."""
        answer = httpx.post(
            webhook_url,
            json={"from": sender, "text": text},
            headers={"X-Webhook-Secret": secret},
            timeout=10,
        )
        return answer.status_code

    def messages(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def _parse_sms_body(body: bytes, content_type: str) -> dict[str, Any]:
    if "application/x-www-form-urlencoded" in content_type:
        from urllib.parse import parse_qs

        form = parse_qs(body.decode())
        return {key: values[0] for key, values in form.items()}
    try:
        payload = json.loads(body or b"{}")
    except json.JSONDecodeError as exc:
        msg = f"body is not JSON: {exc.msg}"
        raise ValueError(msg) from exc
    if not isinstance(payload, dict):
        msg = "body must be a JSON object"
        raise ValueError(msg)
    return payload


def free_port(host: str = "127.0.0.1") -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def serve_sink(kind: str, path: Path, port: int) -> None:
    """Run one sink in this process until SIGTERM: a server on its own, as in production."""
    import signal

    sink: SmtpSink | SmsSink = SmtpSink(path, port=port) if kind == "smtp" else SmsSink(path, port)
    sink.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    sink.stop()


if __name__ == "__main__":
    import sys

    serve_sink(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
