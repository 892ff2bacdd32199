"""SMTP over STARTTLS and implicit TLS with a login, against a real aiosmtpd server."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme

from services.notify.domain.messages import Email, imip_message
from services.notify.senders import SmtpPool, TransientError, send_email
from services.notify.settings import NotifySettings
from werkbank.sinks import SmtpSecurity, SmtpSink

pytestmark = [
    pytest.mark.integration,
    # Implicit TLS: aiosmtpd warns about AUTH without STARTTLS, though the socket is TLS.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]
LOGIN = ("werkbank", "s3cret-from-env")


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return path


def secured_sink(authority: trustme.CA, folder: Path, *, implicit: bool) -> SmtpSink:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return SmtpSink(folder, security=SmtpSecurity(context, implicit_tls=implicit, login=LOGIN))


@pytest.fixture(params=["starttls", "implicit"])
def sink(
    request: pytest.FixtureRequest, authority: trustme.CA, tmp_path: Path
) -> Iterator[SmtpSink]:
    server = secured_sink(authority, tmp_path, implicit=request.param == "implicit")
    server.start()
    yield server
    server.stop()


def settings_for(sink: SmtpSink, ca_file: Path | None, **overrides: object) -> NotifySettings:
    assert sink.security is not None
    implicit = sink.security.implicit_tls
    values: dict[str, object] = {
        "smtp_host": sink.host,
        "smtp_port": sink.port,
        "smtp_starttls": not implicit,
        "smtp_use_tls": implicit,
        "smtp_username": LOGIN[0],
        "smtp_password": LOGIN[1],
        "smtp_ca_bundle": ca_file,
        "smtp_timeout_seconds": 5,
        **overrides,
    }
    return NotifySettings.model_validate(values)


def invite(index: int) -> Email:
    return Email(
        "Digitale Werkbank",
        "werkbank@example.org",
        "Petra Schulte",
        f"petra{index}@example.org",
        "Einladung",
        "Hallo",
        "<p>Hallo</p>",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
        f"<tls-{index}@werkbank.local>",
        None,
        datetime(2026, 6, 1, tzinfo=UTC),
    )


async def send(pool: SmtpPool, mail: Email) -> list[str]:
    recorded: list[str] = []

    async def record(message_id: str) -> None:
        recorded.append(message_id)

    await send_email(pool, imip_message(mail), mail.sender, mail.recipient, record)
    return recorded


async def test_mail_goes_over_tls_with_a_login_and_reuses_the_connection(
    sink: SmtpSink, ca_file: Path
) -> None:
    pool = SmtpPool(settings_for(sink, ca_file))
    try:
        for index in range(3):
            assert await send(pool, invite(index)) == [f"<tls-{index}@werkbank.local>"]
    finally:
        await pool.close()
    assert len(sink.messages()) == 3
    assert sink.logins == 1, "one login: the pooled connection was reused"


async def test_a_server_certificate_from_an_unknown_authority_is_refused(
    sink: SmtpSink,
) -> None:
    pool = SmtpPool(settings_for(sink, None))  # the system store does not know our test CA
    with pytest.raises(TransientError, match="SMTP unreachable"):
        await send(pool, invite(0))
    assert sink.messages() == []


async def test_the_wrong_password_is_a_failure_not_a_delivery(
    sink: SmtpSink, ca_file: Path
) -> None:
    pool = SmtpPool(settings_for(sink, ca_file, smtp_password="wrong"))
    with pytest.raises(TransientError, match="SMTP login refused: 535"):
        await send(pool, invite(0))
    assert sink.messages() == []
