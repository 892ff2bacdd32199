"""NATS routes with mutual TLS, as nats/values.yaml configures them, on real nats-servers.

Issue 18: a credential-less server joined the cluster through port 6222 and received
``booking.meeting.confirmed``. Here two servers with certificates of the cluster CA form a
cluster; a third server without a certificate, and a fourth with one from another CA, dial the
same route port and get nothing: no route, and no message published on the cluster.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.deploy.rendering import DEPLOY
from werkbank.sinks import free_port
from werkbank.stack import nats_server_binary

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(
    folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> Issued:
    cert_path, key_path = folder / f"{stem}.crt", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Issued(cert_path, key_path)


def make_ca(folder: Path, name: str) -> tuple[Issued, x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return _write(folder, name, cert, key), cert, key


def make_leaf(
    folder: Path, name: str, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> Issued:
    """Like nats-cluster-tls (nats/certificates.yaml): server and client auth."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return _write(folder, name, cert, key)


def cluster_tls_values() -> dict[str, Any]:
    values = yaml.safe_load((DEPLOY / "nats" / "values.yaml").read_text(encoding="utf-8"))
    tls: dict[str, Any] = values["config"]["cluster"]["tls"]
    return tls


@dataclass(frozen=True)
class Server:
    name: str
    client_port: int
    cluster_port: int
    http_port: int

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    def routes(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/routez", timeout=2) as r:
            data: dict[str, Any] = json.load(r)
        return list(data.get("routes") or [])


def config(server: Server, peers: list[Server], tls: Issued | None, ca: Path | None) -> str:
    routes = ", ".join(f'"nats://localhost:{peer.cluster_port}"' for peer in peers)
    block = ""
    if tls is not None:
        verify = "true" if cluster_tls_values()["merge"]["verify"] else "false"
        block = (
            f'    tls {{ cert_file: "{tls.cert}", key_file: "{tls.key}", ca_file: "{ca}", '
            f"verify: {verify}, timeout: 2 }}\n"
        )
    return (
        f'server_name: "{server.name}"\n'
        f"port: {server.client_port}\n"
        f"http_port: {server.http_port}\n"
        "cluster {\n"
        '    name: "nats"\n'
        f"    port: {server.cluster_port}\n"
        f"    routes: [{routes}]\n"
        "    connect_retries: 30\n"
        f"{block}"
        "}\n"
    )


@contextmanager
def running(
    tmp_path: Path, server: Server, peers: list[Server], tls: Issued | None, ca: Path | None
) -> Iterator[Server]:
    path = tmp_path / f"{server.name}.conf"
    path.write_text(config(server, peers, tls, ca), encoding="utf-8")
    log = (tmp_path / f"{server.name}.log").open("w")
    process = subprocess.Popen([nats_server_binary(), "-c", str(path)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                server.routes()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def new_server(name: str) -> Server:
    return Server(name, free_port(), free_port(), free_port())


def peers(server: Server) -> set[str]:
    return {str(route.get("remote_name")) for route in server.routes()}


def wait_for(condition: Any, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


async def received_on(intruder: Server, member: Server) -> list[bytes]:
    """What a subscriber on the intruder gets of a message published on a cluster member."""
    listener = await nats.connect(intruder.url)
    publisher = await nats.connect(member.url)
    got: list[bytes] = []
    try:
        subscription = await listener.subscribe("booking.meeting.confirmed")
        await listener.flush()
        await asyncio.sleep(0.5)  # time for a route, were there one, to carry the interest
        await publisher.publish("booking.meeting.confirmed", b"attendee data")
        await publisher.flush()
        try:
            message = await subscription.next_msg(timeout=1)
            got.append(message.data)
        except nats.errors.TimeoutError:
            pass
    finally:
        await listener.close()
        await publisher.close()
    return got


async def test_only_servers_with_a_certificate_of_the_cluster_ca_join(tmp_path: Path) -> None:
    assert cluster_tls_values()["enabled"] is True
    ca, ca_cert, ca_key = make_ca(tmp_path, "werkbank-nats-ca")
    _, other_cert, other_key = make_ca(tmp_path, "someone-elses-ca")
    a, b = new_server("nats-0"), new_server("nats-1")
    bare, forged = new_server("intruder-bare"), new_server("intruder-forged")
    with (
        running(tmp_path, a, [b], make_leaf(tmp_path, "a", ca_cert, ca_key), ca.cert),
        running(tmp_path, b, [a], make_leaf(tmp_path, "b", ca_cert, ca_key), ca.cert),
        running(tmp_path, bare, [a], None, None),
        # It trusts the cluster CA (ca.crt is no secret) but has no certificate of it.
        running(tmp_path, forged, [a], make_leaf(tmp_path, "f", other_cert, other_key), ca.cert),
    ):
        # A route is a pool of connections (nats-server 2.10+): count the peers, not the links.
        assert wait_for(lambda: peers(a) == {"nats-1"} and peers(b) == {"nats-0"})
        assert await received_on(b, a) == [b"attendee data"], "the real cluster carries messages"
        await asyncio.sleep(1)  # the intruders have dialled (and been refused) by now
        assert peers(a) == {"nats-1"}
        assert bare.routes() == []
        assert forged.routes() == []
        assert await received_on(bare, a) == []
        assert await received_on(forged, a) == []
