"""Composition root of the notify service: wires settings, senders, handlers and endpoints."""

from __future__ import annotations

from pathlib import Path

from services.notify import api, consent_api, handlers, privacy, retention
from services.notify.journal import AcceptanceJournal
from services.notify.senders import SmsGateway, SmtpPool, sms_session
from services.notify.service import Outbound
from services.notify.settings import NotifySettings
from services.notify.texts import Texts
from shared.service import ServiceBlueprint, ServiceRuntime, command_line

MIGRATIONS = Path(__file__).parent / "migrations"


async def open_outbound(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    assert isinstance(settings, NotifySettings)
    runtime.state["outbound"] = Outbound(
        settings=settings,
        texts=Texts(settings.template_dir),
        smtp=SmtpPool(settings),
        sms=SmsGateway(settings, sms_session()),
        journal=AcceptanceJournal(runtime.pool),
    )


async def close_outbound(runtime: ServiceRuntime) -> None:
    outbound: Outbound | None = runtime.state.get("outbound")
    if outbound is not None:
        await outbound.smtp.close()
        await outbound.journal.close()
        await outbound.sms.session.close()


def build(settings: NotifySettings | None = None) -> ServiceBlueprint:
    return ServiceBlueprint(
        settings=settings or NotifySettings(),
        migrations=MIGRATIONS,
        consumers=lambda runtime: [*handlers.consumers(runtime), *privacy.consumers(runtime)],
        routers=[api.router, consent_api.router],
        on_start=[open_outbound],
        on_stop=[close_outbound],
        background=[handlers.held_loop, retention.retention],
        title="Werkbank notify",
    )


def main(argv: list[str] | None = None) -> None:
    command_line(build, argv)
