"""Every service starts, migrates its schema, declares its durable consumer and reports health."""

from __future__ import annotations

import importlib
import uuid

import asyncpg
import pytest

from shared.events.streams import BOOKING_ON_MATCHING, MATCHING_ON_BOOKING, NOTIFY_ON_BOOKING
from tests.support.harness import in_process, nats_client
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration

# Settings a service refuses to start without (booking's attendee links).
REQUIRED = {"booking": {"rsvp_secret": "skeleton-secret", "public_base_url": "http://booking.test"}}
SERVICES = {
    "matching": ("MatchingSettings", MATCHING_ON_BOOKING),
    "booking": ("BookingSettings", BOOKING_ON_MATCHING),
    "notify": ("NotifySettings", NOTIFY_ON_BOOKING),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_each_service_migrates_declares_its_consumer_and_is_healthy(
    stack: StackInfo, service: str
) -> None:
    settings_name, spec = SERVICES[service]
    app = importlib.import_module(f"services.{service}.app")
    settings_class = getattr(importlib.import_module(f"services.{service}.settings"), settings_name)
    schema = f"skeleton_{service}_{uuid.uuid4().hex[:6]}"
    settings = settings_class(
        nats_url=stack.nats_url,
        database_url=stack.database_url,
        db_schema=schema,
        staff_token="skeleton-token",
        static_token_enabled=True,
        **REQUIRED.get(service, {}),
    )
    async with in_process(app.build(settings)) as running, running.client() as http:
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        metrics = await http.get("/metrics")
        assert "werkbank_outbox" in metrics.text
        async with nats_client(stack.nats_url) as client:
            info = await client.jetstream().consumer_info(spec.stream.name, spec.durable)
            assert info.config.durable_name == spec.durable
            assert info.config.max_deliver == spec.max_deliver + 1
    conn = await asyncpg.connect(stack.database_url)
    try:
        tables = {
            row["table_name"]
            for row in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
            )
        }
    finally:
        await conn.close()
    assert {"outbox", "inbox", "schema_migrations"} <= tables
