"""The four services in this process, on their own schemas, for the privacy tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import time

import pytest

from services.booking.app import build as build_booking
from services.booking.settings import BookingSettings
from services.console.app import build as build_console
from services.console.settings import ConsoleSettings
from services.matching.app import build as build_matching
from services.matching.settings import MatchingSettings
from services.notify.app import build as build_notify
from services.notify.settings import NotifySettings
from tests.support.harness import RunningService, in_process
from werkbank.stack import StackInfo

TOKEN = "privacy-staff"
WEBHOOK_SECRET = "privacy-webhook"


@pytest.fixture(scope="module")
async def services(stack: StackInfo) -> AsyncIterator[dict[str, RunningService]]:
    suffix = uuid.uuid4().hex[:6]
    common = {
        "nats_url": stack.nats_url,
        "database_url": stack.database_url,
        "staff_token": TOKEN,
        "static_token_enabled": True,
    }
    settings = {
        "matching": MatchingSettings(**common, db_schema=f"priv_matching_{suffix}"),  # type: ignore[arg-type]
        "booking": BookingSettings(
            **common,  # type: ignore[arg-type]
            db_schema=f"priv_booking_{suffix}",
            rsvp_secret="privacy-secret",
            public_base_url="http://booking.test",
        ),
        "notify": NotifySettings(
            **common,  # type: ignore[arg-type]
            db_schema=f"priv_notify_{suffix}",
            smtp_host=stack.smtp_host,
            smtp_port=stack.smtp_port,
            sms_gateway_url=stack.sms_url,
            quiet_hours_start=time(23, 59),
            quiet_hours_end=time(0, 0),
            sms_webhook_secret=WEBHOOK_SECRET,
        ),
    }
    blueprints = {
        "matching": build_matching(settings["matching"]),  # type: ignore[arg-type]
        "booking": build_booking(settings["booking"]),  # type: ignore[arg-type]
        "notify": build_notify(settings["notify"]),  # type: ignore[arg-type]
    }
    async with AsyncExitStack() as running:
        started = {
            name: await running.enter_async_context(in_process(blueprint))
            for name, blueprint in blueprints.items()
        }
        console = ConsoleSettings(
            **common,  # type: ignore[arg-type]
            db_schema=f"priv_console_{suffix}",
            matching_url=started["matching"].base_url,
            booking_url=started["booking"].base_url,
            notify_url=started["notify"].base_url,
        )
        started["console"] = await running.enter_async_context(in_process(build_console(console)))
        yield started
