"""Every error of every service's API is RFC 9457 problem details, documented in its OpenAPI."""

from __future__ import annotations

import pytest

from tests.hardening.conftest import TOKEN
from tests.support.harness import RunningService

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


async def test_a_validation_error_names_each_field_and_does_not_echo_the_input(
    booking: RunningService,
) -> None:
    huge = "x" * 200_000
    async with booking.client(TOKEN) as staff:
        answer = await staff.put(
            "/api/booking/venues/v1", json={"name": huge, "address": "Markt 1", "state": "nw"}
        )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == 422
    assert problem["title"] == "Unprocessable Content"
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {"name", "state"}
    assert all(error["loc"][0] == "body" for error in problem["errors"])
    assert len(answer.content) < 2_000, "the 200,000 characters are not sent back"


async def test_not_found_unauthorised_and_conflict_are_problems(
    matching: RunningService, notify: RunningService
) -> None:
    async with matching.client() as anonymous:
        unauthorised = await anonymous.get("/api/matching/needs")
    assert unauthorised.status_code == 401
    assert unauthorised.headers["content-type"] == PROBLEM
    assert unauthorised.headers["www-authenticate"] == "Bearer"
    async with matching.client(TOKEN) as staff:
        missing = await staff.get("/api/matching/runs/no-such-run")
    assert missing.status_code == 404
    assert missing.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "run no-such-run not found",
    }
    async with notify.client(TOKEN) as staff:
        conflict = await staff.post("/api/notify/deliveries/nope/resend")
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == PROBLEM
    assert "failed or dead" in conflict.json()["detail"]


async def test_a_field_error_raised_by_an_endpoint_keeps_its_field(
    matching: RunningService,
) -> None:
    need = {
        "company_id": "co-none",
        "title": "t",
        "description": "d",
        "categories": ["no.such"],
        "service_type": "first_advice",
    }
    async with matching.client(TOKEN) as staff:
        answer = await staff.put("/api/matching/needs/n1", json=need)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["errors"][0]["field"] == "categories"
    assert "no.such" in problem["errors"][0]["message"]
    assert "valid_codes" in problem, "extension members are kept"


async def test_every_error_status_of_every_operation_is_documented_as_a_problem(
    matching: RunningService, booking: RunningService, notify: RunningService
) -> None:
    for service in (matching, booking, notify):
        async with service.client() as client:
            openapi = (await client.get("/openapi.json")).json()
        assert "Problem" in openapi["components"]["schemas"]
        assert "HTTPValidationError" not in openapi["components"]["schemas"]
        for path, operations in openapi["paths"].items():
            for method, operation in operations.items():
                errors = {c: r for c, r in operation["responses"].items() if c >= "400"}
                if path in {"/healthz", "/readyz"}:
                    continue
                assert {"400", "422", "503"} <= set(errors), (method, path)
                for response in errors.values():
                    assert PROBLEM in response["content"], (method, path)
