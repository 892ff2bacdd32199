"""Attendee endpoints behind signed links: RSVP answers and the feedback form.

A forged, expired or wrong-purpose link gets 403 and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from services.booking import aftercare, invitations, responses, service, texts
from services.booking.domain import rsvp
from services.booking.settings import BookingSettings
from shared import rate_limits
from shared.db import transaction
from shared.events.booking import AttendeeResponse, FeedbackOutcome
from shared.page_security import SecurePageRoute
from shared.rate_limits import Limit
from shared.service import runtime_of

rsvp_router = APIRouter(prefix="/rsvp", tags=["attendees"], route_class=SecurePageRoute)
feedback_router = APIRouter(prefix="/feedback", tags=["attendees"], route_class=SecurePageRoute)
HOUR = timedelta(hours=1)


async def _within_limits(request: Request, token: str) -> None:
    """Answers are limited per link and per client address, in PostgreSQL (so across
    replicas): 429 with Retry-After beyond."""
    settings = _settings(request)
    now = datetime.now(UTC)
    address = request.client.host if request.client else "unknown"
    checks = (
        (Limit("answers-per-address", settings.answers_per_address_per_hour, HOUR), address),
        (Limit("answers-per-link", settings.answers_per_link_per_hour, HOUR), token),
    )
    async with transaction(runtime_of(request).pool) as conn:
        await rate_limits.forget_old(conn, now, 2 * HOUR)
        waits = [await rate_limits.hit(conn, limit, key, now) for limit, key in checks]
    if any(waits):  # refused answers count too: their hits are committed
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many answers; please try again later",
            headers={"Retry-After": str(max(wait or 0 for wait in waits))},
        )


def _claim(request: Request, token: str, purpose: str) -> rsvp.RsvpClaim:
    secret = runtime_of(request).state["rsvp_secret"]
    try:
        return rsvp.verify(secret, token, datetime.now(UTC), purpose=purpose)
    except rsvp.InvalidTokenError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"invalid link: {exc}") from exc


@contextmanager
def _as_http_errors() -> Iterator[None]:
    """An unknown meeting or attendee behind a link is refused like a forged link (403); a
    slot taken meanwhile or feedback before the meeting was held is a conflict (409)."""
    try:
        yield
    except service.NotFoundError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except service.SlotError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"{exc}; please try again") from exc
    except aftercare.NotYetError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except responses.CancelledMeetingError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


def _settings(request: Request) -> BookingSettings:
    settings = runtime_of(request).settings
    assert isinstance(settings, BookingSettings)
    return settings


@rsvp_router.get("/{token}", response_class=HTMLResponse)
async def rsvp_form(
    token: str, request: Request, lang: Annotated[str | None, Query(max_length=5)] = None
) -> HTMLResponse:
    """The meeting and the three answers; opening the link changes nothing (mail scanners
    open links too), the answer is the form's POST."""
    claim = _claim(request, token, rsvp.RSVP)
    async with transaction(runtime_of(request).pool) as conn:
        with _as_http_errors():
            page = await responses.rsvp_page(conn, claim)
    return _rsvp_page(request, page, lang)


def _rsvp_page(
    request: Request, page: responses.RsvpPage, lang: str | None, status_code: int = 200
) -> HTMLResponse:
    """The meeting as it stands now; the form answers its current version, also when the
    link came with an earlier one."""
    settings = _settings(request)
    contact_id = page.attendee.contact.contact_id
    answer_url = invitations.rsvp_url(
        settings,
        runtime_of(request).state["rsvp_secret"],
        page.details.meeting_id,
        contact_id,
        page.details.end,
        page.sequence,
    )
    locale = texts.language(lang, page.attendee.contact.locale.value)
    values = {**responses.page_values(page), "answer_url": answer_url}
    return HTMLResponse(texts.render(locale, "rsvp.html", **values), status_code)


@rsvp_router.post("/{token}", response_model=None)
async def answer(
    token: str,
    request: Request,
    response: Annotated[AttendeeResponse, Form()],
    comment: Annotated[str, Form(max_length=1000)] = "",
    lang: Annotated[str | None, Query(max_length=5)] = None,
) -> HTMLResponse | dict[str, str]:
    """Accept, decline or ask for another time; a decline is handled at once (see responses).
    A page for people; JSON for a client that asks for it (``Accept: application/json``)."""
    await _within_limits(request, token)
    claim = _claim(request, token, rsvp.RSVP)
    runtime = runtime_of(request)
    wants_json = "application/json" in request.headers.get("accept", "")
    async with transaction(runtime.pool) as conn:
        with _as_http_errors():
            answered = await responses.respond(
                conn,
                claim,
                response,
                comment,
                _settings(request),
                runtime.state["rsvp_secret"],
                datetime.now(UTC),
            )
            page = await responses.rsvp_page(conn, claim)
    declined = answered.declined
    result = {
        "meeting_id": claim.meeting_id,
        "response": response.value,
        "outcome": answered.outcome,
    }
    if answered.outcome == "outdated":
        if wants_json:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                "the link belongs to an earlier version of the meeting; "
                f"it now starts at {page.details.start.isoformat()}",
            )
        return _rsvp_page(request, page, lang, status.HTTP_409_CONFLICT)
    if declined is not None:
        service.MEETINGS.labels("cancelled" if declined.match_reopened else "rescheduled").inc()
        result["next_start"] = declined.next_start.isoformat() if declined.next_start else ""
    if wants_json:
        return result
    locale = texts.language(lang, page.attendee.contact.locale.value)
    values = {**responses.page_values(page), "response": response.value, "declined": declined}
    return HTMLResponse(texts.render(locale, "rsvp_thanks.html", **values))


async def _page(request: Request, token: str) -> aftercare.FeedbackPage:
    claim = _claim(request, token, rsvp.FEEDBACK)
    async with transaction(runtime_of(request).pool) as conn:
        with _as_http_errors():
            return await aftercare.feedback_page(conn, claim)


@feedback_router.get("/{token}", response_class=HTMLResponse)
async def feedback_form(
    token: str, request: Request, lang: Annotated[str | None, Query(max_length=5)] = None
) -> HTMLResponse:
    page = await _page(request, token)
    locale = texts.language(lang, page.attendee.contact.locale.value)
    return HTMLResponse(texts.render(locale, "feedback.html", **aftercare.form_values(page)))


@feedback_router.post("/{token}", response_class=HTMLResponse)
async def give_feedback(
    token: str,
    request: Request,
    rating: Annotated[int | None, Form(ge=1, le=4)] = None,
    outcome: Annotated[FeedbackOutcome | None, Form()] = None,
    comment: Annotated[str, Form(max_length=2000)] = "",
    lang: Annotated[str | None, Query(max_length=5)] = None,
) -> HTMLResponse:
    """Rating 1-4 (once) and, now or later, the outcome; FeedbackGiven reaches matching."""
    await _within_limits(request, token)
    claim = _claim(request, token, rsvp.FEEDBACK)
    async with transaction(runtime_of(request).pool) as conn:
        with _as_http_errors():
            await aftercare.give_feedback(conn, claim, rating, outcome, comment)
            page = await aftercare.feedback_page(conn, claim)
    locale = texts.language(lang, page.attendee.contact.locale.value)
    return HTMLResponse(texts.render(locale, "feedback_thanks.html"))
