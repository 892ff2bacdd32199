"""During a database outage the staff APIs answer 503 with Retry-After, never 500."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.booking.app import build
from tests.hardening.conftest import TOKEN, booking_settings
from tests.support.harness import in_process
from tests.support.outage import CuttablePostgres
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


async def test_staff_api_answers_503_with_retry_after_while_the_database_is_down(
    stack: StackInfo, tmp_path: Path
) -> None:
    proxy = CuttablePostgres(stack.database_url, tmp_path)
    await proxy.start()
    settings = booking_settings(stack, proxy.database_url)
    async with in_process(build(settings)) as booking, booking.client(TOKEN) as staff:
        assert (await staff.get("/api/booking/venues")).status_code == 200
        await proxy.cut()
        answers = [
            await staff.get("/api/booking/venues"),
            await staff.put(
                "/api/booking/venues/v1", json={"name": "Rathaus", "address": "Markt 1"}
            ),
            await staff.get("/api/booking/meetings"),
        ]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "5"
            assert answer.headers["content-type"] == "application/problem+json"
        await proxy.start()
