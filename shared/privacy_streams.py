"""Erasing a person from JetStream streams: their messages are deleted by sequence.

A service scans the streams it may clean (its own and the dead letters) and deletes, with the
server's secure erase (the stored bytes are overwritten), every message whose body or headers
name one of the subject's ids or terms. Consumers skip deleted messages; an event not yet
handled when its person is erased is then never handled, which is what erasure asks for.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable

from nats.aio.client import Client as NatsClient
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError
from prometheus_client import Counter

from shared.privacy import ErasureSubject, term_pattern, unfolded

STREAM_MESSAGES_ERASED = Counter(
    "werkbank_stream_messages_erased_total",
    "Stream messages deleted because they named an erased person",
    ["service", "stream"],
)
_ID_KEYS = "contact_id|party_id|company_id|provider_id"
_CHUNK = 128


def id_pattern(ids: Iterable[str]) -> re.Pattern[str] | None:
    """A JSON member naming one of the ids, at any depth of string escaping."""
    alternatives = "|".join(re.escape(i) for i in sorted(ids))
    if not alternatives:
        return None
    return re.compile(rf'(?:{_ID_KEYS})\\*"\s*:\s*\\*"(?:{alternatives})\\*"')


def names_subject(message: RawStreamMsg, subject: ErasureSubject) -> bool:
    body = (message.data or b"").decode("utf-8", errors="replace")
    headers = " ".join(f"{k}:{v}" for k, v in (message.headers or {}).items())
    text = unfolded(f"{headers}\n{body}")
    patterns = (term_pattern(subject.terms), id_pattern(subject.ids))
    return any(p is not None and p.search(text) for p in patterns)


async def _get(client: NatsClient, stream: str, seq: int) -> RawStreamMsg | None:
    try:
        return await client.jetstream().get_msg(stream, seq)
    except NotFoundError:
        return None


async def purge_stream(
    client: NatsClient, stream: str, subject: ErasureSubject, *, service: str
) -> int:
    """Deletes the stream's messages that name the subject; returns how many."""
    js = client.jetstream()
    try:
        state = (await js.stream_info(stream)).state
    except NotFoundError:
        return 0
    if not state.messages:  # an empty stream says first_seq 0, and the server refuses seq 0
        return 0
    deleted = 0
    for start in range(max(state.first_seq, 1), state.last_seq + 1, _CHUNK):
        seqs = range(start, min(start + _CHUNK, state.last_seq + 1))
        messages = await asyncio.gather(*(_get(client, stream, seq) for seq in seqs))
        for seq, message in zip(seqs, messages, strict=True):
            if message is not None and names_subject(message, subject):
                await js.delete_msg(stream, seq)
                deleted += 1
    if deleted:
        STREAM_MESSAGES_ERASED.labels(service, stream).inc(deleted)
    return deleted


async def purge_streams(
    client: NatsClient, streams: Iterable[str], subject: ErasureSubject, *, service: str
) -> dict[str, int]:
    return {
        stream: await purge_stream(client, stream, subject, service=service) for stream in streams
    }


__all__ = ["STREAM_MESSAGES_ERASED", "id_pattern", "names_subject", "purge_stream", "purge_streams"]
