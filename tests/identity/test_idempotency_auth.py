"""An ``Idempotency-Key`` is claimed only for a caller who is signed in and has the route's role:
an unauthenticated or unauthorised write stores nothing in ``idempotency_keys``."""

from __future__ import annotations

import uuid

import pytest

from tests.identity.support import STAFF, VIEWER, token_of
from tests.matching.sample import BAUSTOFF
from tests.support.harness import RunningService
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


# A refused request's claim would be released again at once; a trigger sees every insert.
_WATCH = """
CREATE TABLE IF NOT EXISTS claims_seen (key text NOT NULL);
CREATE OR REPLACE FUNCTION note_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO claims_seen VALUES (NEW.key); RETURN NEW; END $$;
DROP TRIGGER IF EXISTS note_claim ON idempotency_keys;
CREATE TRIGGER note_claim AFTER INSERT ON idempotency_keys
FOR EACH ROW EXECUTE FUNCTION note_claim();
"""


async def _claimed_keys(matching: RunningService) -> set[str]:
    rows = await matching.runtime.pool.fetch("SELECT key FROM claims_seen")
    return {row["key"] for row in rows}


async def test_a_refused_write_claims_no_idempotency_key(
    matching: RunningService, stack: StackInfo
) -> None:
    await matching.runtime.pool.execute(_WATCH)
    company = f"/api/matching/companies/co-{uuid.uuid4().hex[:6]}"
    callers = {
        "not-signed-in": ("Bearer not-a-jwt", 401),
        "wrong-scheme": ("Basic dXNlcjpwYXNz", 401),
        "viewer": (f"Bearer {token_of(stack, VIEWER)}", 403),
    }
    async with matching.client() as client:
        for name, (authorization, expected) in callers.items():
            key = f"refused-{name}"
            headers = {"Authorization": authorization, "Idempotency-Key": key}
            answer = await client.put(company, json=BAUSTOFF, headers=headers)
            assert answer.status_code == expected, (name, answer.text)
            retried = await client.put(company, json=BAUSTOFF, headers=headers)
            assert retried.status_code == expected, (name, retried.text)
            assert "idempotent-replayed" not in retried.headers
        assert not {key for key in await _claimed_keys(matching) if key.startswith("refused-")}
        staff = {"Authorization": f"Bearer {token_of(stack, STAFF)}", "Idempotency-Key": "kept-1"}
        stored = await client.put(company, json=BAUSTOFF, headers=staff)
        assert stored.status_code == 200, stored.text
        replayed = await client.put(company, json=BAUSTOFF, headers=staff)
        assert replayed.headers["idempotent-replayed"] == "true"
    assert "kept-1" in await _claimed_keys(matching)
    kept = await matching.runtime.pool.fetchval(
        "SELECT status FROM idempotency_keys WHERE key = 'kept-1'"
    )
    assert kept == 200
