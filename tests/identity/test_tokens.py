"""Bearer tokens from the local OpenID provider against a real matching service.

The service trusts only the stack's issuer (the static staff token is off, as by default);
every token here comes from the provider over HTTP, or is forged to show it is refused.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Mapping

import httpx
import jwt
import psutil
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.identity.support import ADMIN, STAFF, VIEWER, minted, rotate_key, token_of
from tests.matching.sample import BAUSTOFF
from tests.support.harness import RunningService
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_each_role_may_do_its_part_and_is_told_which_role_is_missing(
    matching: RunningService, stack: StackInfo
) -> None:
    viewer, staff, admin = (token_of(stack, user) for user in (VIEWER, STAFF, ADMIN))
    company = f"co-{uuid.uuid4().hex[:6]}"
    async with matching.client() as client:
        assert (await client.get("/api/matching/needs", headers=_bearer(viewer))).status_code == 200
        refused = await client.put(
            f"/api/matching/companies/{company}", json=BAUSTOFF, headers=_bearer(viewer)
        )
        assert refused.status_code == 403
        assert "'staff'" in refused.text
        stored = await client.put(
            f"/api/matching/companies/{company}", json=BAUSTOFF, headers=_bearer(staff)
        )
        assert stored.status_code == 200, stored.text
        erased = await client.delete(f"/api/matching/companies/{company}", headers=_bearer(staff))
        assert erased.status_code == 403
        assert "'admin'" in erased.text
        erased = await client.delete(f"/api/matching/companies/{company}", headers=_bearer(admin))
        assert erased.status_code == 204
        # An admin may also do what staff and viewers may.
        assert (await client.get("/api/matching/needs", headers=_bearer(admin))).status_code == 200


def _forged_with_own_key(kid: str, issuer: str) -> str:
    own = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": issuer, "aud": "werkbank", "sub": "mallory", "exp": now + 300,
              "roles": ["admin"]}  # fmt: skip
    return jwt.encode(claims, own, algorithm="RS256", headers={"kid": kid})


def _unsigned(kid: str, issuer: str) -> str:
    def part(data: Mapping[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    header = {"alg": "none", "typ": "JWT", "kid": kid}
    claims = {"iss": issuer, "aud": "werkbank", "sub": "mallory", "exp": int(time.time()) + 300,
              "roles": ["admin"]}  # fmt: skip
    return f"{part(header)}.{part(claims)}."


async def test_bad_tokens_answer_401_never_500(matching: RunningService, stack: StackInfo) -> None:
    good = token_of(stack, ADMIN)
    kid = jwt.get_unverified_header(good)["kid"]
    now = int(time.time())
    async with httpx.AsyncClient() as plain:
        jwks = (await plain.get(f"{stack.oidc_issuer}/jwks")).json()
    public_pem = jwt.PyJWK(jwks["keys"][0]).key.public_bytes(
        encoding=Encoding.PEM, format=PublicFormat.SubjectPublicKeyInfo
    )
    admin_claims = {"sub": "mallory", "roles": ["admin"]}
    cases = {
        "expired": minted(stack, {**admin_claims, "exp": now - 600, "iat": now - 1200}),
        "not yet valid": minted(stack, {**admin_claims, "nbf": now + 600}),
        "wrong audience": minted(stack, {**admin_claims, "aud": "another-app"}),
        "wrong issuer": minted(stack, {**admin_claims, "iss": "http://127.0.0.1:1"}),
        "wrongly signed": _forged_with_own_key(kid, stack.oidc_issuer),
        "alg none": _unsigned(kid, stack.oidc_issuer),
        "HS256 with the public key": _hs256_with(public_pem, kid, stack.oidc_issuer),
        "garbage": "not-a-jwt",
        "static token while disabled": "the-old-shared-token",
    }
    async with matching.client() as client:
        for name, token in cases.items():
            answer = await client.get("/api/matching/needs", headers=_bearer(token))
            assert answer.status_code == 401, (name, answer.status_code, answer.text)
            assert answer.headers["www-authenticate"].startswith("Bearer")
        assert (await client.get("/api/matching/needs")).status_code == 401
        odd_headers = [
            [(b"authorization", "Bearer gültig".encode("latin-1"))],
            [(b"authorization", "Bearer ✓".encode())],
            [(b"authorization", b"Basic dXNlcjpwYXNz")],
            [(b"authorization", b"Bearer")],
            [(b"authorization", b"Bearer " + b"a" * 20_000)],
        ]
        for headers in odd_headers:
            answer = await client.get("/api/matching/needs", headers=headers)
            assert answer.status_code == 401, (headers, answer.text)
        assert (await client.get("/api/matching/needs", headers=_bearer(good))).status_code == 200


def _hs256_with(secret: bytes, kid: str, issuer: str) -> str:
    # PyJWT refuses to sign HS256 with a PEM key; build the token by hand for the attack.
    import hashlib
    import hmac

    def part(data: Mapping[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    header = part({"alg": "HS256", "typ": "JWT", "kid": kid})
    claims = part({"iss": issuer, "aud": "werkbank", "sub": "mallory",
                   "exp": int(time.time()) + 300, "roles": ["admin"]})  # fmt: skip
    signature = hmac.new(secret, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


async def test_a_key_rotation_at_the_provider_is_picked_up_without_restart(
    matching: RunningService, stack: StackInfo
) -> None:
    before = token_of(stack, VIEWER)
    async with matching.client() as client:
        assert (await client.get("/api/matching/needs", headers=_bearer(before))).status_code == 200
        new_kid = rotate_key(stack)
        after = token_of(stack, VIEWER)
        assert jwt.get_unverified_header(after)["kid"] == new_kid
        # The service has only the old key cached: the unknown kid makes it fetch the JWKS.
        answer = await client.get("/api/matching/needs", headers=_bearer(after))
        assert answer.status_code == 200, answer.text
        # Tokens signed before the rotation stay valid while the old key is published.
        assert (await client.get("/api/matching/needs", headers=_bearer(before))).status_code == 200


async def _raw_request(port: int, head: bytes, body_chunks: int, chunk: bytes) -> bytes:
    """Send the head and up to ``body_chunks`` chunks, stopping once the server answers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        for _ in range(body_chunks):
            if reader.at_eof() or len(reader._buffer) > 0:  # type: ignore[attr-defined]
                break
            writer.write(chunk)
            try:
                await asyncio.wait_for(writer.drain(), timeout=2)
            except (ConnectionError, TimeoutError):
                break
        return await asyncio.wait_for(reader.read(4096), timeout=10)
    finally:
        writer.close()


def _head(path: str, length: int, token: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{auth}\r\n"
    ).encode()


async def test_a_large_body_without_a_token_is_refused_before_it_is_read(
    matching: RunningService, stack: StackInfo
) -> None:
    port = int(matching.base_url.rsplit(":", 1)[1])
    process = psutil.Process()
    rss_before = process.memory_info().rss
    chunk = b"[" * (1024 * 1024)
    answer = await _raw_request(port, _head("/api/matching/companies/big", 200 * 1024 * 1024),
                                body_chunks=64, chunk=chunk)  # fmt: skip
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    grown = process.memory_info().rss - rss_before
    assert grown < 40 * 1024 * 1024, f"RSS grew by {grown / 1e6:.0f} MB"

    # With a token, a body over the 1 MiB limit is a 413 before the body is sent at all.
    staff = token_of(stack, STAFF)
    answer = await _raw_request(
        port, _head("/api/matching/companies/big", 2 * 1024 * 1024, staff), 0, b""
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # Under the limit the same route works, so the 413 is about size alone.
    async with matching.client() as client:
        ok = await client.put(
            f"/api/matching/companies/co-{uuid.uuid4().hex[:6]}",
            json=BAUSTOFF,
            headers=_bearer(staff),
        )
        assert ok.status_code == 200, ok.text
        # Imports have their own, documented larger limit (20 MB): 3 MB is not refused for size.
        admin = token_of(stack, ADMIN)
        row = b'{"company_id": "x", "note": "' + b"a" * 3000 + b'"}'
        big_import = b"[" + b",".join([row] * 1000) + b"]"
        assert len(big_import) > 2 * 1024 * 1024
        answer_import = await client.post(
            "/api/matching/import/companies",
            content=big_import,
            headers={**_bearer(admin), "Content-Type": "application/json"},
        )
        assert answer_import.status_code == 422, answer_import.status_code


def test_the_stack_publishes_discovery_and_signs_in_every_sample_user(stack: StackInfo) -> None:
    document = httpx.get(f"{stack.oidc_issuer}/.well-known/openid-configuration").json()
    assert document["issuer"] == stack.oidc_issuer
    assert "S256" in document["code_challenge_methods_supported"]
    assert {"authorization_code", "client_credentials"} <= set(document["grant_types_supported"])
    for username, user in stack.oidc_users.items():
        claims = jwt.decode(token_of(stack, username), options={"verify_signature": False})
        assert claims["sub"] == username
        assert claims["roles"] == user["roles"]
        assert claims["aud"] == "werkbank"
    wrong = httpx.post(
        f"{stack.oidc_issuer}/authorize",
        data={"username": VIEWER, "password": "falsch", "response_type": "code",
              "client_id": "werkbank-console", "redirect_uri": "http://127.0.0.1:9/cb",
              "code_challenge": "x" * 43, "code_challenge_method": "S256"},
    )  # fmt: skip
    assert wrong.status_code == 401
