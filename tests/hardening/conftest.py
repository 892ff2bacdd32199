"""The three services in-process against the real servers, once per module."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from services.booking.app import build as build_booking
from services.booking.settings import BookingSettings
from services.matching.app import build as build_matching
from services.matching.settings import MatchingSettings
from services.notify.app import build as build_notify
from services.notify.settings import NotifySettings
from tests.support.harness import RunningService, in_process
from werkbank.sinks import SmsSink, SmtpSink
from werkbank.stack import StackInfo

TOKEN = "hardening-staff"


def _schema(service: str) -> str:
    return f"{service}_{uuid.uuid4().hex[:8]}"


def booking_settings(stack: StackInfo, database_url: str | None = None) -> BookingSettings:
    return BookingSettings(
        nats_url=stack.nats_url,
        database_url=database_url or stack.database_url,  # type: ignore[arg-type]
        staff_token=TOKEN,  # type: ignore[arg-type]
        static_token_enabled=True,
        db_schema=_schema("booking"),
        rsvp_secret="hardening-secret",  # type: ignore[arg-type]
        public_base_url="http://booking.test",
    )


@pytest.fixture(scope="module")
async def matching(stack: StackInfo) -> AsyncIterator[RunningService]:
    settings = MatchingSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        staff_token=TOKEN,  # type: ignore[arg-type]
        static_token_enabled=True,
        db_schema=_schema("matching"),
    )
    async with in_process(build_matching(settings)) as running:
        yield running


@pytest.fixture(scope="module")
async def booking(stack: StackInfo) -> AsyncIterator[RunningService]:
    async with in_process(build_booking(booking_settings(stack))) as running:
        yield running


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    sink = SmtpSink(tmp_path_factory.mktemp("mail"))
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def sms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmsSink]:
    sink = SmsSink(tmp_path_factory.mktemp("sms") / "sms.jsonl")
    sink.start()
    yield sink
    sink.stop()


def notify_settings(stack: StackInfo, smtp: SmtpSink, sms: SmsSink) -> NotifySettings:
    return NotifySettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        db_schema=_schema("notify"),
        staff_token=TOKEN,  # type: ignore[arg-type]
        static_token_enabled=True,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        sms_gateway_url=sms.url,
        held_poll_seconds=0.2,
        sms_webhook_secret="hardening-webhook",  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
async def notify(stack: StackInfo, smtp: SmtpSink, sms: SmsSink) -> AsyncIterator[RunningService]:
    async with in_process(build_notify(notify_settings(stack, smtp, sms))) as running:
        yield running
