"""Replaying a dead letter: its original event published again on its original subject.

This is an operator's act over the ops connection (``CONSOLE_REPLAY_NATS_URL``); the console's
own NATS user may publish nothing but its own subjects.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import nats
from nats.aio.client import Client

from services.console.settings import ConsoleSettings
from shared.service import ServiceRuntime


async def open_replay(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    assert isinstance(settings, ConsoleSettings)
    if settings.replay_nats_url is not None:
        runtime.state["replay"] = await nats.connect(
            settings.replay_nats_url.get_secret_value(), name="console-replay"
        )


async def close_replay(runtime: ServiceRuntime) -> None:
    client: Client | None = runtime.state.get("replay")
    if client is not None:
        await client.drain()


class ReplayUnavailableError(RuntimeError):
    """No ops connection is configured."""


async def replay(runtime: ServiceRuntime, letter: dict[str, Any]) -> None:
    client: Client | None = runtime.state.get("replay")
    if client is None:
        raise ReplayUnavailableError
    raw = letter["original_headers"]
    stored = raw if isinstance(raw, dict) else json.loads(raw)
    headers = {str(k): str(v) for k, v in stored.items()}
    # A fresh message id, or JetStream's duplicate window would drop the replay.
    headers["Nats-Msg-Id"] = f"{letter['original_msg_id']}-replay-{uuid.uuid4().hex}"
    await client.jetstream().publish(
        letter["original_subject"], letter["original_body"].encode(), headers=headers
    )
