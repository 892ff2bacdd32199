"""The three services in-process, trusting only the stack's OpenID provider (no static token)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from services.booking.app import build as build_booking
from services.booking.settings import BookingSettings
from services.matching.app import build as build_matching
from services.matching.settings import MatchingSettings
from services.notify.app import build as build_notify
from services.notify.settings import NotifySettings
from tests.support.harness import RunningService, in_process
from werkbank.stack import StackInfo


def _schema(service: str) -> str:
    return f"{service}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
async def matching(stack: StackInfo) -> AsyncIterator[RunningService]:
    settings = MatchingSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        db_schema=_schema("matching"),
        oidc_issuer=stack.oidc_issuer,
        staff_token="the-old-shared-token",  # type: ignore[arg-type]
    )
    async with in_process(build_matching(settings)) as running:
        yield running


@pytest.fixture(scope="module")
async def booking(stack: StackInfo) -> AsyncIterator[RunningService]:
    settings = BookingSettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        db_schema=_schema("booking"),
        oidc_issuer=stack.oidc_issuer,
        rsvp_secret="identity-secret",  # type: ignore[arg-type]
        public_base_url="http://booking.test",
    )
    async with in_process(build_booking(settings)) as running:
        yield running


@pytest.fixture(scope="module")
async def notify(stack: StackInfo) -> AsyncIterator[RunningService]:
    settings = NotifySettings(
        nats_url=stack.nats_url,
        database_url=stack.database_url,  # type: ignore[arg-type]
        db_schema=_schema("notify"),
        oidc_issuer=stack.oidc_issuer,
        smtp_host=stack.smtp_host,
        smtp_port=stack.smtp_port,
        sms_gateway_url=stack.sms_url,
    )
    async with in_process(build_notify(settings)) as running:
        yield running
