"""Per-service NATS users and what each may publish and subscribe to.

One table, :data:`PERMISSIONS`, used in three places: :func:`server_config` renders it as a
nats-server configuration (tests and local runs), ``deploy/k8s/nats/values.yaml`` carries the
same lists for the official Helm chart, and ``tests/deploy`` checks that the two agree.

What a service needs, and why:

- publish its own events (``matching.>``, ...), its audit records (``audit.action.recorded``)
  and its dead letters (``deadletter.<service>.>``);
- the JetStream API for *create or update* and *info* of every stream, because every service runs
  ``ensure_streams(ALL_STREAMS)`` at start-up (``shared/service.py``);
- for its durable consumer only: consumer info and create (both the current
  ``CONSUMER.CREATE.<stream>.<durable>[.<filter>]`` and the legacy ``CONSUMER.DURABLE.CREATE``
  subject), ``CONSUMER.MSG.NEXT`` (pull fetch), ``STREAM.MSG.GET`` on the consumer's stream (the
  exhausted-deliveries listener fetches the original message) and ``$JS.ACK`` (ack, nak, term);
- on the PRIVACY stream, matching publishes requests and every service its answers; each may
  read and securely delete messages of its own stream and of the dead letters (erasure);
- subscribe to ``_INBOX.>`` (JetStream API replies, publish acks and fetched messages), to its
  consumer's subject, and to the ``MAX_DELIVERIES`` advisory of its own consumer.

The console (a read model) subscribes to every context's events through its own durable
consumers and publishes nothing but its own dead letters and its answers to privacy requests
(it has no stream of its own to clean; the others clean the dead letters); replaying a dead
letter is an operator's act and uses the ops connection (``CONSOLE_REPLAY_NATS_URL``).

The ops user may do anything (stream backups, ``werkbank dead-letters --replay``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NamedTuple

from shared.events.streams import (
    ALL_STREAMS,
    BOOKING_ON_MATCHING,
    BOOKING_ON_PRIVACY,
    BOOKING_STREAM,
    CONSOLE_CONSUMERS,
    CONSOLE_ON_PRIVACY,
    DEADLETTER_STREAM,
    MATCHING_ON_BOOKING,
    MATCHING_ON_PRIVACY,
    MATCHING_STREAM,
    NOTIFY_ON_BOOKING,
    NOTIFY_ON_PRIVACY,
    NOTIFY_STREAM,
    PRIVACY_STREAM,
    ConsumerSpec,
    StreamSpec,
)

SERVICES: Final = ("matching", "booking", "notify", "console")
AUDIT_SUBJECT: Final = "audit.action.recorded"
# The services that keep an audit log and publish its records (the console for the dead letters
# it replays or discards itself; every other action goes through a service).
AUDITED: Final = ("matching", "booking", "notify", "console")
OPS_USER: Final = "ops"
INBOX: Final = "_INBOX.>"
ADVISORY_MAX_DELIVERIES: Final = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"

OWN_STREAM: Final[Mapping[str, StreamSpec]] = {
    "matching": MATCHING_STREAM,
    "booking": BOOKING_STREAM,
    "notify": NOTIFY_STREAM,
}
OWN_SUBJECTS: Final[Mapping[str, tuple[str, ...]]] = {
    **{service: stream.subjects for service, stream in OWN_STREAM.items()},
    "console": ("console.>",),
}
CONSUMERS: Final[Mapping[str, tuple[ConsumerSpec, ...]]] = {
    "matching": (MATCHING_ON_BOOKING, MATCHING_ON_PRIVACY),
    "booking": (BOOKING_ON_MATCHING, BOOKING_ON_PRIVACY),
    "notify": (NOTIFY_ON_BOOKING, NOTIFY_ON_PRIVACY),
    "console": (*CONSOLE_CONSUMERS, CONSOLE_ON_PRIVACY),
}
# What each service publishes on the PRIVACY stream: matching asks, every service answers.
PRIVACY_SUBJECTS: Final[Mapping[str, tuple[str, ...]]] = {
    "matching": ("privacy.>",),
    "booking": ("privacy.erasure.completed", "privacy.export.assembled"),
    "notify": ("privacy.erasure.completed", "privacy.export.assembled"),
    "console": ("privacy.erasure.completed", "privacy.export.assembled"),
}


class Permissions(NamedTuple):
    """Subjects a user may publish to and subscribe to (allow lists; all else is denied)."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def _stream_api(stream: str) -> list[str]:
    return [
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.STREAM.CREATE.{stream}",
        f"$JS.API.STREAM.UPDATE.{stream}",
    ]


def _consumer_api(spec: ConsumerSpec) -> list[str]:
    stream, durable = spec.stream.name, spec.durable
    return [
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


def _erasure_api(service: str) -> list[str]:
    """Read and securely delete messages of its own stream and of the dead letters: on erasure
    each service removes the messages that name the person (``shared/privacy.py``)."""
    streams: tuple[str, ...] = (OWN_STREAM[service].name, DEADLETTER_STREAM.name)
    if service == "matching":  # it also removes the export parts it asked for
        streams = (*streams, PRIVACY_STREAM.name)
    return [
        f"$JS.API.STREAM.{action}.{stream}"
        for stream in streams
        for action in ("MSG.GET", "MSG.DELETE")
    ]


def _unique(subjects: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(subjects))


def permissions_for(service: str) -> Permissions:
    """The allow lists of one service's NATS user."""
    consumers = CONSUMERS[service]
    publish = [
        *OWN_SUBJECTS[service],
        f"deadletter.{service}.>",
        *([AUDIT_SUBJECT] if service in AUDITED else []),
        *PRIVACY_SUBJECTS[service],
        "$JS.API.INFO",
    ]
    for stream in ALL_STREAMS:
        publish += _stream_api(stream.name)
    for spec in consumers:
        publish += _consumer_api(spec)
    if service in OWN_STREAM:
        publish += _erasure_api(service)
    subscribe = [spec.subject for spec in consumers]
    subscribe += [f"{ADVISORY_MAX_DELIVERIES}.{s.stream.name}.{s.durable}" for s in consumers]
    subscribe.append(INBOX)
    return Permissions(publish=_unique(publish), subscribe=_unique(subscribe))


PERMISSIONS: Final[Mapping[str, Permissions]] = {
    service: permissions_for(service) for service in SERVICES
}
OPS_PERMISSIONS: Final = Permissions(publish=(">",), subscribe=(">",))


def password_env(user: str) -> str:
    """The environment variable that holds a user's password: ``MATCHING_NATS_PASSWORD``."""
    return f"{user.upper()}_NATS_PASSWORD"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Server certificate and key; with ``ca_file`` and ``verify`` clients need a certificate."""

    cert_file: Path
    key_file: Path
    ca_file: Path | None = None
    verify: bool = False


def _quoted(value: str | Path) -> str:
    # JSON strings are valid nats-server config strings, and quoting keeps "$JS..." literal
    # (an unquoted $NAME is a variable reference).
    return json.dumps(str(value))


def _subject_list(subjects: Iterable[str]) -> str:
    return "[" + ", ".join(_quoted(s) for s in subjects) + "]"


def _user_block(user: str, password: str, permissions: Permissions) -> str:
    return (
        "    {\n"
        f"      user: {_quoted(user)}\n"
        f"      password: {_quoted(password)}\n"
        "      permissions: {\n"
        f"        publish: {{allow: {_subject_list(permissions.publish)}}}\n"
        f"        subscribe: {{allow: {_subject_list(permissions.subscribe)}}}\n"
        "      }\n"
        "    }"
    )


def server_config(
    passwords: Mapping[str, str],
    tls: TlsFiles | None = None,
    jetstream_dir: str | Path | None = None,
    *,
    port: int | None = None,
) -> str:
    """A nats-server configuration with one user per service (and ``ops`` if it has a password).

    ``passwords`` maps each of :data:`SERVICES` (and optionally ``ops``) to its password.
    ``port`` is left out unless given: ``werkbank.stack.NatsServer`` sets it on the command line.
    """
    missing = [service for service in SERVICES if not passwords.get(service)]
    if missing:
        msg = f"no password for {', '.join(missing)}"
        raise ValueError(msg)
    unknown = sorted(set(passwords) - {*SERVICES, OPS_USER})
    if unknown:
        msg = f"unknown NATS users: {', '.join(unknown)}"
        raise ValueError(msg)
    users = [_user_block(s, passwords[s], PERMISSIONS[s]) for s in SERVICES]
    if passwords.get(OPS_USER):
        users.append(_user_block(OPS_USER, passwords[OPS_USER], OPS_PERMISSIONS))
    lines = ["# Generated by werkbank.nats_security.server_config"]
    if port is not None:
        lines.append(f"port: {port}")
    lines.append("jetstream {")
    if jetstream_dir is not None:
        lines.append(f"  store_dir: {_quoted(jetstream_dir)}")
    lines.append("}")
    if tls is not None:
        lines.append("tls {")
        lines.append(f"  cert_file: {_quoted(tls.cert_file)}")
        lines.append(f"  key_file: {_quoted(tls.key_file)}")
        if tls.ca_file is not None:
            lines.append(f"  ca_file: {_quoted(tls.ca_file)}")
        if tls.verify:
            lines.append("  verify: true")
        lines.append("}")
    lines.append("authorization {")
    lines.append("  users = [")
    lines.append(",\n".join(users))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"
