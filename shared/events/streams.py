"""JetStream streams, subjects and durable consumers: one stream per context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig


@dataclass(frozen=True, slots=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    duplicate_window: timedelta = timedelta(minutes=10)
    max_age: timedelta = timedelta(days=30)
    description: str = ""

    def config(self, replicas: int = 1) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            description=self.description,
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            num_replicas=replicas,
            duplicate_window=self.duplicate_window.total_seconds(),
            max_age=self.max_age.total_seconds(),
        )


MATCHING_STREAM = StreamSpec(
    "MATCHING", ("matching.>",), description="Profiles, match runs and proposals"
)
BOOKING_STREAM = StreamSpec("BOOKING", ("booking.>",), description="The life of each meeting")
NOTIFY_STREAM = StreamSpec("NOTIFY", ("notify.>",), description="Delivery outcomes")
AUDIT_STREAM = StreamSpec(
    "AUDIT",
    ("audit.>",),
    max_age=timedelta(days=400),
    description="Staff actions recorded in each service's audit log",
)
DEADLETTER_STREAM = StreamSpec(
    "DEADLETTER",
    ("deadletter.>",),
    max_age=timedelta(days=90),
    description="Events that could not be handled, with the reason",
)
# Erasure requests and confirmations carry ids and counts only; export parts carry personal
# data, so the stream keeps its messages only as long as an export takes to assemble.
PRIVACY_STREAM = StreamSpec(
    "PRIVACY",
    ("privacy.>",),
    max_age=timedelta(days=7),
    description="Erasure and access requests of data subjects, and each service's answer",
)
ALL_STREAMS: tuple[StreamSpec, ...] = (
    MATCHING_STREAM,
    BOOKING_STREAM,
    NOTIFY_STREAM,
    AUDIT_STREAM,
    DEADLETTER_STREAM,
    PRIVACY_STREAM,
)


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """A durable pull consumer, shared by all replicas of one service."""

    service: str
    durable: str
    stream: StreamSpec
    subject: str
    max_deliver: int = 6
    # How long an event in flight at a consumer's death waits before it is redelivered. Work
    # that takes longer keeps its event by reporting progress (``DeliveryGuard``), so this can
    # stay short.
    ack_wait: timedelta = timedelta(seconds=10)
    backoff: tuple[float, ...] = field(default=(1.0, 5.0, 15.0, 60.0, 300.0))
    batch_size: int = 32
    # How long one fetch waits for its batch: with fewer events waiting than ``batch_size``, a
    # fetch hands over what it has only after this (idle consumers also fetch this often).
    pull_timeout: float = 5.0
    # Events handled at once by one replica; order across events is then not kept.
    workers: int = 1
    # Only these subjects of ``subject`` reach the consumer: the others are never fetched.
    filter_subjects: tuple[str, ...] = ()
    # A larger body is refused (dead-lettered) before it is decoded.
    max_event_bytes: int = 256 * 1024
    # Deeper JSON is refused before validation: no event of ours nests deeper than a few levels.
    max_event_depth: int = 32

    @property
    def dead_letter_subject(self) -> str:
        return dead_letter_subject(self.service, self.durable)


BOOKING_ON_MATCHING = ConsumerSpec(
    service="booking",
    durable="booking-on-matching",
    stream=MATCHING_STREAM,
    subject="matching.match.accepted",
    # Events handled at once; booking gathers them into one transaction (group commit).
    workers=64,
    batch_size=64,
)
NOTIFY_ON_BOOKING = ConsumerSpec(
    service="notify",
    durable="notify-on-booking",
    stream=BOOKING_STREAM,
    subject="booking.meeting.>",
    # Events handled at once; notify attempts their deliveries together (group commit).
    workers=64,
    batch_size=64,
)
MATCHING_ON_BOOKING = ConsumerSpec(
    service="matching",
    durable="matching-on-booking",
    stream=BOOKING_STREAM,
    subject="booking.meeting.>",
    # What matching learns from; invites and reminders would only cost it decoding.
    filter_subjects=("booking.meeting.declined", "booking.meeting.feedback_given"),
)

MATCHING_ON_PRIVACY = ConsumerSpec(
    service="matching",
    durable="matching-on-privacy",
    stream=PRIVACY_STREAM,
    subject="privacy.>",
)
BOOKING_ON_PRIVACY = ConsumerSpec(
    service="booking",
    durable="booking-on-privacy",
    stream=PRIVACY_STREAM,
    subject="privacy.>",
    filter_subjects=("privacy.erasure.requested", "privacy.export.requested"),
)
NOTIFY_ON_PRIVACY = ConsumerSpec(
    service="notify",
    durable="notify-on-privacy",
    stream=PRIVACY_STREAM,
    subject="privacy.>",
    filter_subjects=("privacy.erasure.requested", "privacy.export.requested"),
)
CONSOLE_ON_PRIVACY = ConsumerSpec(
    service="console",
    durable="console-on-privacy",
    stream=PRIVACY_STREAM,
    subject="privacy.>",
    filter_subjects=("privacy.erasure.requested", "privacy.export.requested"),
)
# The console's read model: every event of every context, gathered into one transaction per
# group of the events in flight (group commit), applied in stream order. Fetched in batches with
# a short wait: a batch that does not fill holds its events back at most ``pull_timeout``, so
# staff see an action's result at once, and a backlog costs one fetch per batch, not per event.
_CONSOLE_WORKERS = 32
_CONSOLE_PULL_TIMEOUT = 0.1
CONSOLE_ON_MATCHING = ConsumerSpec(
    service="console",
    durable="console-on-matching",
    stream=MATCHING_STREAM,
    subject="matching.>",
    batch_size=_CONSOLE_WORKERS,
    pull_timeout=_CONSOLE_PULL_TIMEOUT,
    workers=_CONSOLE_WORKERS,
)
CONSOLE_ON_BOOKING = ConsumerSpec(
    service="console",
    durable="console-on-booking",
    stream=BOOKING_STREAM,
    subject="booking.>",
    batch_size=_CONSOLE_WORKERS,
    pull_timeout=_CONSOLE_PULL_TIMEOUT,
    workers=_CONSOLE_WORKERS,
)
CONSOLE_ON_NOTIFY = ConsumerSpec(
    service="console",
    durable="console-on-notify",
    stream=NOTIFY_STREAM,
    subject="notify.>",
    batch_size=_CONSOLE_WORKERS,
    pull_timeout=_CONSOLE_PULL_TIMEOUT,
    workers=_CONSOLE_WORKERS,
)
CONSOLE_ON_DEADLETTER = ConsumerSpec(
    service="console",
    durable="console-on-deadletter",
    stream=DEADLETTER_STREAM,
    subject="deadletter.>",
    batch_size=_CONSOLE_WORKERS,
    pull_timeout=_CONSOLE_PULL_TIMEOUT,
    workers=_CONSOLE_WORKERS,
)
# The audit trail across services: every staff action each service recorded.
CONSOLE_ON_AUDIT = ConsumerSpec(
    service="console",
    durable="console-on-audit",
    stream=AUDIT_STREAM,
    subject="audit.>",
    batch_size=1,
)
CONSOLE_CONSUMERS = (
    CONSOLE_ON_MATCHING,
    CONSOLE_ON_BOOKING,
    CONSOLE_ON_NOTIFY,
    CONSOLE_ON_DEADLETTER,
    CONSOLE_ON_AUDIT,
)


def dead_letter_subject(service: str, consumer: str) -> str:
    return f"deadletter.{service}.{consumer}"
