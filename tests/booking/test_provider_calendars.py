"""Providers' own calendars against real servers: Radicale (CalDAV), a small HTTP server with
an iCalendar feed, and a server that accepts connections and never answers."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from services.booking import repository
from services.booking.app import build
from services.booking.calendars import client, copies
from services.booking.calendars import repository as calendars_repository
from services.booking.calendars import service as calendars_service
from services.booking.calendars.repository import CalendarSource
from services.booking.domain.calendar import BERLIN, public_holidays
from services.booking.domain.freebusy import busy_times
from services.booking.settings import BookingSettings
from shared.db import transaction
from shared.events.base import Envelope, utc_now, wrap
from shared.events.privacy import (
    ErasureCompleted,
    ErasureRequested,
    ErasureScope,
    ExportAssembled,
    ExportRequested,
)
from tests.booking.test_booking_flow import TOKEN, book_one, settings_for
from tests.support.harness import RunningService, eventually, in_process, nats_client, publish
from tests.support.streams import read_all
from werkbank.caldav import create_calendar
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
SECRET_REF = "provider-dav"


def calendar_settings(stack: StackInfo) -> BookingSettings:
    return settings_for(stack, f"booking_{uuid.uuid4().hex[:8]}").model_copy(
        update={
            "calendar_secrets": {SECRET_REF: SecretStr(stack.caldav_password)},
            "calendar_timeout_seconds": 3.0,
            "calendar_refresh_seconds": 2.0,
            "calendar_poll_seconds": 0.2,
            "calendar_max_age_seconds": 0.0,
        }
    )


@pytest.fixture(scope="module")
async def booking(stack: StackInfo) -> AsyncIterator[RunningService]:
    """One service for the module (it consumes every MatchAccepted): two alternatives held."""
    settings = calendar_settings(stack).model_copy(update={"options": 3})
    async with in_process(build(settings)) as running:
        yield running


def new_calendar(stack: StackInfo) -> str:
    return create_calendar(
        stack.caldav_url, stack.caldav_user, stack.caldav_password, f"cal-{uuid.uuid4().hex[:8]}"
    )


def put(stack: StackInfo, calendar_url: str, uid: str, *events: str) -> None:
    body = "".join(
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20260101T000000Z\n{event.strip()}\nEND:VEVENT\n"
        for event in events
    )
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Test//Anbieter//DE\n{body}END:VCALENDAR\n"
    response = httpx.put(
        f"{calendar_url}{uid}.ics",
        content=text.replace("\n", "\r\n").encode(),
        headers={"Content-Type": "text/calendar; charset=utf-8"},
        auth=(stack.caldav_user, stack.caldav_password),
    )
    assert response.status_code in {201, 204}, response.text


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc,arg-type]


async def test_busy_times_read_from_a_real_caldav_server_honour_recurrences_and_exceptions(
    stack: StackInfo,
) -> None:
    url = new_calendar(stack)
    put(  # weekly at 10:00 over the spring DST change; one dropped, one moved
        stack,
        url,
        "weekly",
        """
DTSTART;TZID=Europe/Berlin:20270318T100000
DTEND;TZID=Europe/Berlin:20270318T110000
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=Europe/Berlin:20270325T100000
""",
        """
RECURRENCE-ID;TZID=Europe/Berlin:20270401T100000
DTSTART;TZID=Europe/Berlin:20270401T150000
DTEND;TZID=Europe/Berlin:20270401T160000
""",
    )
    put(stack, url, "spring-sunday", "DTSTART;VALUE=DATE:20270328\nDTEND;VALUE=DATE:20270329")
    put(stack, url, "autumn-sunday", "DTSTART;VALUE=DATE:20271031")
    put(
        stack,
        url,
        "free",
        "DTSTART:20270406T080000Z\nDTEND:20270406T090000Z\nTRANSP:TRANSPARENT",
    )
    source = CalendarSource("p", "caldav", url, stack.caldav_user, SECRET_REF, False)
    since, until = berlin(2027, 3, 1), berlin(2027, 12, 1)
    async with client.session(10) as http:
        texts = await client.calendar_texts(
            http, source, stack.caldav_password, since, until, timeout=10, max_bytes=10**6
        )
    assert busy_times(texts, since, until) == [
        (berlin(2027, 3, 18, 10), berlin(2027, 3, 18, 11)),
        (berlin(2027, 3, 28), berlin(2027, 3, 29)),  # 23 hours
        (berlin(2027, 4, 1, 15), berlin(2027, 4, 1, 16)),
        (berlin(2027, 4, 8, 10), berlin(2027, 4, 8, 11)),
        (berlin(2027, 10, 31), berlin(2027, 11, 1)),  # 25 hours
    ]
    assert berlin(2027, 4, 8, 10).hour == 8  # summer time: 10:00 is 08:00 UTC
    async with client.session(10) as http:
        with pytest.raises(client.CalendarUnavailableError, match="401"):
            await client.calendar_texts(
                http, source, "wrong", since, until, timeout=10, max_bytes=10**6
            )


def workdays_from(first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5 and day not in public_holidays("NW", day.year):
            days.append(day)
        day += timedelta(days=1)
    return days


async def register_caldav(
    staff: httpx.AsyncClient,
    stack: StackInfo,
    provider: str,
    url: str,
    *,
    write_meetings: bool = False,
) -> None:
    registered = await staff.put(
        f"/api/booking/providers/{provider}/calendar",
        json={
            "kind": "caldav",
            "url": url,
            "username": stack.caldav_user,
            "secret_ref": SECRET_REF,
            "write_meetings": write_meetings,
        },
    )
    assert registered.status_code == 200, registered.text


async def status_of(staff: httpx.AsyncClient, provider: str) -> dict[str, Any]:
    response = await staff.get(f"/api/booking/providers/{provider}/calendar")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_booking_avoids_the_providers_caldav_busy_times_and_writes_the_meeting_there(
    booking: RunningService, stack: StackInfo
) -> None:
    today = datetime.now(BERLIN).date()
    free_day = workdays_from(today + timedelta(days=2), 3)[-1]
    url = new_calendar(stack)
    put(  # busy all day, every day, for a month, except on free_day
        stack,
        url,
        "every-day",
        f"""
DTSTART;TZID=Europe/Berlin:{today:%Y%m%d}T060000
DTEND;TZID=Europe/Berlin:{today:%Y%m%d}T200000
RRULE:FREQ=DAILY;COUNT=30
EXDATE;TZID=Europe/Berlin:{free_day:%Y%m%d}T060000
""",
    )
    provider = f"p-dav-{uuid.uuid4().hex[:6]}"
    async with booking.client(TOKEN) as staff:
        registered = await staff.put(
            f"/api/booking/providers/{provider}/calendar",
            json={
                "kind": "caldav",
                "url": url,
                "username": stack.caldav_user,
                "secret_ref": SECRET_REF,
                "write_meetings": True,
            },
        )
        assert registered.status_code == 200, registered.text
        assert stack.caldav_password not in registered.text

        async def fetched() -> bool:  # a later fetch that fails keeps these busy times
            return (await status_of(staff, provider))["fetched_at"] is not None

        await eventually(fetched)
        confirmed = await book_one(stack, provider)
        start = confirmed.meeting.start.astimezone(BERLIN)
        assert start.date() == free_day
        status = await status_of(staff, provider)
        assert status["busy_count"] > 20

        copy_url = client.event_url(
            CalendarSource(provider, "caldav", url, "", None, True), confirmed.calendar.uid
        )
        auth = (stack.caldav_user, stack.caldav_password)

        async def copied() -> bool:
            async with httpx.AsyncClient(auth=auth) as dav:
                return (await dav.get(copy_url)).status_code == 200

        await eventually(copied)
        async with httpx.AsyncClient(auth=auth) as dav:
            stored = (await dav.get(copy_url)).text
        assert f"UID:{confirmed.calendar.uid}" in stored
        assert "petra@example.org" not in stored  # no contact data in the copy
        answers = await staff.get(f"/api/booking/meetings/{confirmed.meeting.meeting_id}/answers")
        [calendar] = answers.json()["provider_calendars"]
        assert calendar["provider_id"] == provider
        assert calendar["stale"] == (calendar["warning"] is not None)
        assert calendar["write_meetings"] is True

        busy_day = workdays_from(today + timedelta(days=2), 1)[0]
        refused = await staff.post(
            f"/api/booking/meetings/{confirmed.meeting.meeting_id}/reschedule",
            json={"start": datetime.combine(busy_day, time(10), tzinfo=BERLIN).isoformat()},
        )
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert error["field"] == "start"
        assert "busy" in error["message"]

        later = datetime.combine(free_day, time(14), tzinfo=BERLIN)
        moved = await staff.post(
            f"/api/booking/meetings/{confirmed.meeting.meeting_id}/reschedule",
            json={"start": later.isoformat()},
        )
        assert moved.status_code == 200, moved.text

        async def updated() -> bool:
            async with httpx.AsyncClient(auth=auth) as dav:
                text = (await dav.get(copy_url)).text
            return "SEQUENCE:1" in text and f"{free_day:%Y%m%d}T140000" in text

        await eventually(updated)

        cancelled = await staff.post(
            f"/api/booking/meetings/{confirmed.meeting.meeting_id}/cancel", json={}
        )
        assert cancelled.status_code == 200, cancelled.text

        async def removed() -> bool:
            async with httpx.AsyncClient(auth=auth) as dav:
                return (await dav.get(copy_url)).status_code == 404

        await eventually(removed)


async def test_a_decline_skips_a_held_alternative_the_providers_calendar_filled_since(
    booking: RunningService, stack: StackInfo
) -> None:
    url = new_calendar(stack)
    provider = f"p-held-{uuid.uuid4().hex[:6]}"
    async with booking.client(TOKEN) as staff:
        await register_caldav(staff, stack, provider, url)

        async def fetched() -> bool:
            return (await status_of(staff, provider))["fetched_at"] is not None

        await eventually(fetched)
        confirmed = await book_one(stack, provider)
        meeting_id = confirmed.meeting.meeting_id
        async with transaction(booking.runtime.pool) as conn:
            held = await repository.held_options(conn, meeting_id)
        assert [row["option"] for row in held] == [1, 2]
        filled = held[0]["starts_at"].astimezone(BERLIN).date()
        put(
            stack,
            url,
            "filled",
            f"DTSTART;VALUE=DATE:{filled:%Y%m%d}\nDTEND;VALUE=DATE:"
            f"{filled + timedelta(days=1):%Y%m%d}",
        )

        async def busy_fetched() -> bool:
            return bool((await status_of(staff, provider))["busy_count"] >= 1)

        await eventually(busy_fetched)
        async with booking.client() as attendee:
            attendee.headers["Accept"] = "application/json"
            rsvp_url = confirmed.meeting.attendees[0].rsvp_url
            assert rsvp_url is not None
            declined = await attendee.post(httpx.URL(rsvp_url).path, data={"response": "declined"})
        assert declined.status_code == 200, declined.text
        assert declined.json()["next_start"] == held[1]["starts_at"].isoformat()


async def booking_answer(
    stack: StackInfo,
    request: Envelope[ExportRequested] | Envelope[ErasureRequested],
    subject: str,
    model: type[ExportAssembled] | type[ErasureCompleted],
) -> Any:
    """Publishes the privacy request and waits for booking's answer to it."""
    request_id = request.data.request_id
    async with nats_client(stack.nats_url) as nats:
        await publish(nats, request)
    found: list[Any] = []

    async def answered() -> bool:
        async with nats_client(stack.nats_url) as nats:
            messages = await read_all(nats, "PRIVACY", subject, idle=0.2)
        found[:] = [
            event
            for m in messages
            if request_id.encode() in m.data
            and (event := model.model_validate(json.loads(m.data)["data"])).service == "booking"
        ]
        return bool(found)

    await eventually(answered)
    return found[0]


async def test_an_erased_provider_loses_its_calendar_and_busy_times_which_its_export_shows(
    booking: RunningService, stack: StackInfo
) -> None:
    url = new_calendar(stack)
    today = datetime.now(UTC).date()
    every_morning = (
        f"DTSTART:{today:%Y%m%d}T060000Z\nDTEND:{today:%Y%m%d}T070000Z\nRRULE:FREQ=DAILY"
    )
    put(stack, url, "busy", every_morning)
    provider = f"p-gdpr-{uuid.uuid4().hex[:6]}"
    async with booking.client(TOKEN) as staff:
        await register_caldav(staff, stack, provider, url, write_meetings=True)

        async def fetched() -> bool:
            return bool((await status_of(staff, provider))["busy_count"] >= 1)

        await eventually(fetched)
        confirmed = await book_one(stack, provider)  # ties the provider's contact to it
        contact_id = f"{provider}-1"
        export = wrap(
            ExportRequested(
                request_id=f"exp-{provider}",
                contact_ids=(contact_id,),
                requested_by="test",
                requested_at=utc_now(),
            ),
            source="matching",
        )
        part = await booking_answer(stack, export, "privacy.export.assembled", ExportAssembled)
        [calendar] = part.records["provider_calendars"]
        assert (calendar["url"], calendar["username"]) == (url, stack.caldav_user)
        assert calendar["secret_ref"] == SECRET_REF
        assert {row["provider_id"] for row in part.records["provider_busy"]} == {provider}

        erasure = wrap(
            ErasureRequested(
                request_id=f"del-{provider}",
                scope=ErasureScope.ORGANISATION,
                contact_ids=(contact_id,),
                party_ids=(provider,),
                requested_by="test",
                requested_at=utc_now(),
            ),
            source="matching",
        )
        done = await booking_answer(stack, erasure, "privacy.erasure.completed", ErasureCompleted)
        assert done.rows["booking.provider_calendars"] == 1
        assert done.rows["booking.provider_busy"] >= 1
        gone = await staff.get(f"/api/booking/providers/{provider}/calendar")
        assert gone.status_code == 404
    async with transaction(booking.runtime.pool) as conn:
        left = await conn.fetchval(
            "SELECT (SELECT count(*) FROM provider_busy WHERE provider_id = $1)"
            " + (SELECT count(*) FROM calendar_copies WHERE meeting_id = $2)",
            provider,
            confirmed.meeting.meeting_id,
        )
    assert left == 0


def closed_port_url() -> str:
    """A URL whose port refuses connections at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/dav/"


async def test_a_copy_that_cannot_be_written_is_retried_after_a_growing_capped_wait(
    booking: RunningService, stack: StackInfo
) -> None:
    provider = f"p-down-{uuid.uuid4().hex[:6]}"
    async with booking.client(TOKEN) as staff:
        await register_caldav(staff, stack, provider, closed_port_url(), write_meetings=True)
    meeting_id = (await book_one(stack, provider)).meeting.meeting_id
    pool = booking.runtime.pool

    async def retry() -> Any:
        async with transaction(pool) as conn:
            return await conn.fetchrow(
                "SELECT failures, retry_at - now() AS wait FROM calendar_copy_retries"
                " WHERE meeting_id = $1 AND provider_id = $2",
                meeting_id,
                provider,
            )

    async def failed(times: int) -> bool:
        row = await retry()
        return row is not None and row["failures"] == times

    await eventually(lambda: failed(1))
    first = await retry()
    assert timedelta(seconds=20) < first["wait"] <= timedelta(seconds=copies.FIRST_WAIT)
    async with transaction(pool) as conn:  # the wait is over
        await conn.execute("UPDATE calendar_copy_retries SET retry_at = now()")
    await eventually(lambda: failed(2))
    second = await retry()
    assert second["wait"] > timedelta(seconds=copies.FIRST_WAIT * 1.5)
    async with transaction(pool) as conn:
        await conn.execute(
            "UPDATE calendar_copy_retries SET failures = 30 WHERE meeting_id = $1", meeting_id
        )
        retry_at = await calendars_repository.copy_failed(
            conn, meeting_id, provider, copies.FIRST_WAIT, copies.LONGEST_WAIT
        )
    assert retry_at <= datetime.now(UTC) + timedelta(seconds=copies.LONGEST_WAIT + 5)


class FeedServer:
    """A real HTTP server with one iCalendar feed; ``hang`` makes it accept and never answer."""

    def __init__(self, text: str, delay: float = 0.0) -> None:
        self.text = text
        self.hang = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.fetching: dict[str, int] = {}  # per path: requests being answered now
        self.most_at_once: dict[str, int] = {}
        self.fetches: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if server.hang.is_set():
                    server.release.wait(60)
                    return
                with server.lock:
                    now = server.fetching[self.path] = server.fetching.get(self.path, 0) + 1
                    server.most_at_once[self.path] = max(now, server.most_at_once.get(self.path, 0))
                    server.fetches[self.path] = server.fetches.get(self.path, 0) + 1
                try:
                    server.release.wait(delay)  # long enough for a second fetch to overlap
                    self.answer()
                finally:
                    with server.lock:
                        server.fetching[self.path] -= 1

            def answer(self) -> None:
                body = server.text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/anbieter.ics"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.http.shutdown()
        self.http.server_close()


async def test_two_replicas_fetch_each_calendar_one_at_a_time_and_share_them(
    stack: StackInfo,
) -> None:
    feed = FeedServer(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Leer//DE\r\nEND:VCALENDAR\r\n", delay=0.3
    )
    settings = calendar_settings(stack)
    providers = [f"p-lease-{n}-{uuid.uuid4().hex[:6]}" for n in range(6)]
    try:
        async with in_process(build(settings)) as first, in_process(build(settings)):
            async with first.client(TOKEN) as staff:
                for provider in providers:
                    registered = await staff.put(
                        f"/api/booking/providers/{provider}/calendar",
                        json={"kind": "ical", "url": f"{feed.url}?{provider}"},
                    )
                    assert registered.status_code == 200, registered.text

            def each_fetched(times: int) -> bool:
                with feed.lock:
                    return (
                        len(feed.fetches) == len(providers) and min(feed.fetches.values()) >= times
                    )

            await eventually(lambda: asyncio.to_thread(each_fetched, 3), timeout=60)
    finally:
        feed.close()
    with feed.lock:
        assert feed.most_at_once == dict.fromkeys(feed.fetches, 1)


@pytest.fixture
def silent_socket() -> Iterator[str]:
    """Accepts connections (the kernel's backlog) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/dav/"
    finally:
        listener.close()


def failed_fetches() -> float:
    value = REGISTRY.get_sample_value(
        "werkbank_booking_provider_calendar_fetches_total", {"outcome": "failed"}
    )
    return value or 0.0


async def test_a_feed_that_stops_answering_keeps_its_last_busy_times_with_a_visible_warning(
    booking: RunningService, stack: StackInfo
) -> None:
    day = workdays_from(datetime.now(BERLIN).date() + timedelta(days=3), 1)[0]
    feed = FeedServer(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Feed//DE\r\nBEGIN:VEVENT\r\n"
        f"UID:feed-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:{day:%Y%m%d}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    provider = f"p-feed-{uuid.uuid4().hex[:6]}"
    try:
        async with booking.client(TOKEN) as staff:
            registered = await staff.put(
                f"/api/booking/providers/{provider}/calendar",
                json={"kind": "ical", "url": feed.url},
            )
            assert registered.status_code == 200, registered.text

            async def fetched() -> bool:
                return (await status_of(staff, provider))["fetched_at"] is not None

            await eventually(fetched)
            first = await status_of(staff, provider)
            assert first["busy_count"] == 1
            assert first["stale"] is False

            feed.hang.set()
            before = failed_fetches()
            settings = booking.runtime.settings
            assert isinstance(settings, BookingSettings)
            source = CalendarSource(provider, "ical", feed.url, "", None, False)
            await calendars_service.refresh(booking.runtime.pool, settings, [source])
            assert failed_fetches() >= before + 1
            status = await status_of(staff, provider)
            assert status["stale"] is True
            assert "timed out" in status["failure"]
            assert "older busy times in use" in status["warning"]
            assert status["fetched_at"] == first["fetched_at"]
            async with transaction(booking.runtime.pool) as conn:
                busy = await repository.busy(
                    conn,
                    [f"provider:{provider}"],
                    berlin(day.year, day.month, day.day),
                    berlin(day.year, day.month, day.day) + timedelta(days=1),
                )
            assert busy[f"provider:{provider}"]  # the stale busy times still count
    finally:
        feed.close()


async def test_a_calendar_server_that_never_answers_does_not_stop_booking(
    booking: RunningService, stack: StackInfo, silent_socket: str
) -> None:
    provider = f"p-silent-{uuid.uuid4().hex[:6]}"
    async with booking.client(TOKEN) as staff:
        registered = await staff.put(
            f"/api/booking/providers/{provider}/calendar",
            json={"kind": "caldav", "url": silent_socket, "secret_ref": SECRET_REF},
        )
        assert registered.status_code == 200, registered.text
        confirmed = await book_one(stack, provider)
        assert confirmed.meeting.start > datetime.now(UTC)

        async def failed() -> bool:
            return (await status_of(staff, provider))["failure"] is not None

        await eventually(failed)
        status = await status_of(staff, provider)
        assert status["stale"] is True
        assert "never fetched" in status["warning"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "caldav", "url": "ftp://dav.example.de/"}, "url"),
        ({"kind": "caldav", "url": "https://user:pw@dav.example.de/"}, "url"),
        ({"kind": "webdav", "url": "https://dav.example.de/"}, "kind"),
        (
            {"kind": "caldav", "url": "https://dav.example.de/", "secret_ref": "unknown"},
            "secret_ref",
        ),
        ({"kind": "caldav", "url": "https://dav.example.de/", "secret_ref": "a b"}, "secret_ref"),
        ({"kind": "caldav", "url": "https://dav.example.de/", "password": "x"}, "password"),
        ({"kind": "ical", "url": "https://a.de/a.ics", "write_meetings": True}, "write_meetings"),
    ],
    ids=[
        "scheme",
        "credentials-in-url",
        "kind",
        "unknown-secret",
        "bad-secret-name",
        "password",
        "write-into-a-feed",
    ],
)
async def test_a_bad_registration_is_refused_naming_the_field(
    booking: RunningService, body: dict[str, Any], field: str
) -> None:
    async with booking.client(TOKEN) as staff:
        response = await staff.put("/api/booking/providers/p-bad/calendar", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [error["field"] for error in response.json()["errors"]]


async def test_only_staff_register_calendars(booking: RunningService) -> None:
    async with booking.client() as anyone:
        response = await anyone.put(
            "/api/booking/providers/p-x/calendar",
            json={"kind": "ical", "url": "https://example.de/x.ics"},
        )
    assert response.status_code == 401
