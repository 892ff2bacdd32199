"""Talks to providers' calendar servers over HTTP: a CalDAV calendar (REPORT calendar-query,
PUT and DELETE of single events) or a read-only iCalendar feed (GET).

Everything is async (httpx), so a server that accepts and never answers costs a time-out, not a
thread, and a cancelled task stops at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
from defusedxml import ElementTree

from services.booking.calendars.repository import CalendarSource

CALDAV = "{urn:ietf:params:xml:ns:caldav}"
_QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{start}" end="{end}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""


class CalendarUnavailableError(Exception):
    """The calendar could not be read or written; the message is a reason for staff."""


@asynccontextmanager
async def session(timeout: float) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout), limits=limits, follow_redirects=True
    ) as http:
        yield http


def _auth(source: CalendarSource, password: str | None) -> httpx.BasicAuth | None:
    if password is None:
        return None
    return httpx.BasicAuth(source.username, password)


async def calendar_texts(
    http: httpx.AsyncClient,
    source: CalendarSource,
    password: str | None,
    since: datetime,
    until: datetime,
    *,
    timeout: float,
    max_bytes: int,
) -> list[bytes]:
    """The VCALENDAR texts holding the events of [since, until); within ``timeout`` in all."""
    try:
        async with asyncio.timeout(timeout):
            if source.kind == "ical":
                return [await _read(http, "GET", source, password, max_bytes=max_bytes)]
            body = _QUERY.format(start=_utc(since), end=_utc(until))
            answer = await _read(
                http,
                "REPORT",
                source,
                password,
                max_bytes=max_bytes,
                content=body.encode(),
                headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            )
            return _calendar_data(answer)
    except TimeoutError as exc:
        raise CalendarUnavailableError("timed out") from exc
    except httpx.HTTPError as exc:
        raise CalendarUnavailableError(f"unreachable ({type(exc).__name__})") from exc


async def _read(
    http: httpx.AsyncClient,
    method: str,
    source: CalendarSource,
    password: str | None,
    *,
    max_bytes: int,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    request = http.build_request(method, source.url, content=content, headers=headers)
    response = await http.send(request, auth=_auth(source, password), stream=True)
    try:
        if response.status_code >= 300:
            raise CalendarUnavailableError(f"answered HTTP {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > max_bytes:
                raise CalendarUnavailableError(f"larger than {max_bytes} bytes")
        return bytes(body)
    finally:
        await response.aclose()


def _calendar_data(multistatus: bytes) -> list[bytes]:
    try:
        root = ElementTree.fromstring(multistatus)
    except ElementTree.ParseError as exc:
        raise CalendarUnavailableError("answered no readable multistatus") from exc
    return [
        (element.text or "").encode()
        for element in root.iter(f"{CALDAV}calendar-data")
        if element.text
    ]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_url(source: CalendarSource, uid: str) -> str:
    return f"{source.url.rstrip('/')}/{quote(uid, safe='')}.ics"


async def put_event(
    http: httpx.AsyncClient,
    source: CalendarSource,
    password: str | None,
    uid: str,
    ics: str,
    *,
    timeout: float,
) -> None:
    """Writes (or overwrites) the event: the same call twice leaves one event."""
    await _write(
        http,
        "PUT",
        event_url(source, uid),
        source,
        password,
        timeout=timeout,
        content=ics.encode(),
        headers={"Content-Type": "text/calendar; charset=utf-8"},
    )


async def delete_event(
    http: httpx.AsyncClient,
    source: CalendarSource,
    password: str | None,
    uid: str,
    *,
    timeout: float,
) -> None:
    """Removes the event; one that is gone already counts as removed."""
    await _write(http, "DELETE", event_url(source, uid), source, password, timeout=timeout)


async def _write(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    source: CalendarSource,
    password: str | None,
    *,
    timeout: float,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    try:
        async with asyncio.timeout(timeout):
            response = await http.request(
                method, url, content=content, headers=headers, auth=_auth(source, password)
            )
    except TimeoutError as exc:
        raise CalendarUnavailableError("timed out") from exc
    except httpx.HTTPError as exc:
        raise CalendarUnavailableError(f"unreachable ({type(exc).__name__})") from exc
    if response.status_code >= 300 and not (method == "DELETE" and response.status_code == 404):
        raise CalendarUnavailableError(f"answered HTTP {response.status_code}")
