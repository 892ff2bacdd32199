"""Calls to the services' staff APIs, with the signed-in person's (or the service) token.

The console never reads another service's tables: every action goes through these calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from services.console.domain.problems import Problem, problem_from
from services.console.settings import ConsoleSettings


class ServiceUnavailableError(RuntimeError):
    """The service did not answer: the page shows a banner and keeps the form's input."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} unreachable")
        self.service = service


class ApiError(RuntimeError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(f"HTTP {problem.status}")
        self.problem = problem


@dataclass
class Services:
    """One HTTP client per service; ``token`` comes from the session (see ``web.auth``)."""

    settings: ConsoleSettings
    client: httpx.AsyncClient

    def base(self, service: str) -> str:
        return {
            "matching": self.settings.matching_url,
            "booking": self.settings.booking_url,
            "notify": self.settings.notify_url,
        }[service]

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str | None,
        *,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            answer = await self.client.request(
                method, self.base(service) + path, json=json, content=content, headers=headers
            )
        except httpx.TransportError as exc:
            raise ServiceUnavailableError(service) from exc
        if answer.status_code >= 500:
            raise ServiceUnavailableError(service)
        body = _json_or_none(answer)
        if answer.status_code >= 400:
            raise ApiError(problem_from(answer.status_code, body))
        return body

    async def fetch(self, service: str, path: str, token: str | None) -> bytes | None:
        """A document as it is (a download), or None when the service does not know it."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            answer = await self.client.get(self.base(service) + path, headers=headers)
        except httpx.TransportError as exc:
            raise ServiceUnavailableError(service) from exc
        if answer.status_code == 404:
            return None
        if answer.status_code >= 400:
            raise ServiceUnavailableError(service)
        return answer.content


def _json_or_none(answer: httpx.Response) -> Any:
    if not answer.content:
        return None
    try:
        return answer.json()
    except ValueError:
        return None
