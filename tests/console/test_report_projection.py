"""The report read model against a real PostgreSQL: events in any order become the figures."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from asyncpg import Pool

from services.console import repository
from services.console.app import MIGRATIONS
from services.console.domain.reports import BERLIN, Period, ReportFilters
from services.console.reports import build_neutrality, build_report
from shared.db import create_pool, transaction
from shared.events.base import Event, wrap
from shared.events.booking import (
    AttendanceRecorded,
    AttendanceStatus,
    Attendee,
    Calendar,
    CalendarMethod,
    FeedbackGiven,
    FeedbackOutcome,
    MeetingConfirmed,
    MeetingDetails,
    Organizer,
    Place,
)
from shared.events.common import Contact, Party, PartyKind, ServiceType
from shared.events.matching import (
    CompanyRegistered,
    CompanyUpdated,
    CriterionScore,
    MatchAccepted,
    MatchProposed,
    NeedRegistered,
    NeedSummary,
    Proposal,
    TieNote,
)
from shared.events.notify import Channel, NotificationDelivered, NotificationFailed
from shared.migrations import migrate, migrations_for
from werkbank.stack import StackInfo

NOW = datetime.now(UTC)
TODAY = NOW.astimezone(BERLIN).date()
AROUND_NOW = ReportFilters(Period(TODAY - timedelta(days=30), TODAY + timedelta(days=30)))


@pytest.fixture
async def pool(stack: StackInfo) -> AsyncIterator[Pool]:
    schema = f"console_reports_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(stack.database_url)
    await migrate(conn, schema, migrations_for(MIGRATIONS))
    await conn.close()
    created = await create_pool(stack.database_url, schema, min_size=1, max_size=4)
    try:
        yield created
    finally:
        await created.close()


async def apply(pool: Pool, *events: Event) -> None:
    for event in events:
        async with transaction(pool) as conn:
            await repository.apply(conn, wrap(event, source="test"))


def proposal(pid: str, provider: str, rank: int, band: str | None) -> Proposal:
    score = CriterionScore(
        criterion="text", weight=0.3, value=0.5, contribution=0.15, reason_de="x", reason_en="x"
    )
    tie = TieNote(tied_with=1, reason_de="gleichauf", reason_en="tied", band=band) if band else None
    return Proposal(
        proposal_id=pid, provider_id=provider, rank=rank, score=0.8, breakdown=(score,), tie=tie
    )


def party(party_id: str, kind: PartyKind) -> Party:
    contact = Contact(contact_id=f"c-{party_id}", name="Erika Muster", email="e@example.org")
    return Party(party_id=party_id, kind=kind, name=party_id, contacts=(contact,))


def meeting(start: datetime) -> MeetingDetails:
    attendees = tuple(
        Attendee(
            party_id=pid,
            party_kind=kind,
            party_name=pid,
            contact=Contact(contact_id=f"c-{pid}", name="Erika Muster", email="e@example.org"),
        )
        for pid, kind in (("co-1", PartyKind.COMPANY), ("pv-1", PartyKind.PROVIDER))
    )
    return MeetingDetails(
        meeting_id="m-1",
        match_id="match-1",
        need_id="n-1",
        title="Erstberatung",
        start=start,
        end=start + timedelta(hours=1),
        place=Place(venue_id="v", name="Werkbank", kind="in_person"),
        organizer=Organizer(name="Wirtschaftsförderung", email="wf@example.org"),
        attendees=attendees,
    )


def events() -> list[Event]:
    need = NeedSummary(
        need_id="n-1",
        title="Shop",
        description="Ein Shop",
        categories=("market.shop",),
        service_type=ServiceType.FIRST_ADVICE,
    )
    calendar = Calendar(uid="u", sequence=0, method=CalendarMethod.REQUEST, invitations=())
    return [
        NeedRegistered(
            need_id="n-1",
            company_id="co-1",
            title="Shop",
            description="Ein Shop",
            categories=("market.shop",),
            service_type=ServiceType.FIRST_ADVICE,
        ),
        CompanyRegistered(
            company_id="co-1",
            name="Bäckerei",
            sector_code="10.71",
            sector_section="C",
            postcode="44135",
            city="Dortmund-Innenstadt",
            size=8,
        ),
        MatchProposed(
            run_id="run-1",
            need_id="n-1",
            company_id="co-1",
            taxonomy_version="2026.1",
            tolerance=0.02,
            weights={"text": 0.3},
            proposals=(
                proposal("p-1", "pv-1", 1, "pv-1|pv-2"),
                proposal("p-2", "pv-2", 2, "pv-1|pv-2"),
                proposal("p-3", "pv-3", 3, None),
            ),
        ),
        MatchAccepted(
            match_id="match-1",
            proposal_id="p-1",
            run_id="run-1",
            need=need,
            company=party("co-1", PartyKind.COMPANY),
            provider=party("pv-1", PartyKind.PROVIDER),
            accepted_by="jonas",
        ),
        NotificationDelivered(
            delivery_id="d-1",
            source_event_id="x",
            source_event_type="booking.meeting.confirmed",
            meeting_id="m-1",
            contact_id="c-co-1",
            channel=Channel.EMAIL,
            attempts=1,
            delivered_at=NOW,
        ),
        NotificationFailed(
            delivery_id="d-2",
            source_event_id="x",
            source_event_type="booking.meeting.confirmed",
            meeting_id="m-1",
            contact_id="c-co-1",
            channel=Channel.SMS,
            attempts=3,
            reason="gateway",
            permanent=True,
        ),
        MeetingConfirmed(meeting=meeting(NOW + timedelta(days=2)), calendar=calendar),
        AttendanceRecorded(meeting_id="m-1", match_id="match-1", status=AttendanceStatus.HELD),
        FeedbackGiven(
            meeting_id="m-1",
            match_id="match-1",
            company_id="co-1",
            provider_id="pv-1",
            given_by=PartyKind.COMPANY,
            rating=4,
            outcome=FeedbackOutcome.PROJECT_STARTED,
        ),
    ]


async def test_a_needs_way_to_its_outcome_becomes_the_reports_figures(pool: Pool) -> None:
    await apply(pool, *events())
    report = await build_report(pool, AROUND_NOW, "size_class")
    s = report.summary
    assert (s.received, s.matched, s.met, s.closed) == (1, 1, 1, 1)
    assert (s.meetings, s.held, s.attendance) == (1, 1, 1.0)
    assert (s.sent, s.failed) == (1, 1)
    assert report.tables["needs"].rows == [("Kleinstunternehmen (unter 10)", 1, 1, 1, 1)]
    assert report.tables["feedback"].rows == [("market.shop", 1, 4.0, 1, 0, 0)]
    assert [row[:3] for row in report.tables["deliveries"].rows] == [
        ("E-Mail", 1, 0),
        ("SMS", 0, 1),
    ]


async def test_dimensions_reach_every_fact_whatever_the_order_of_the_streams(pool: Pool) -> None:
    """The deliveries arrive before their meeting and the need before its company."""
    await apply(pool, *events())
    sector_c = ReportFilters(AROUND_NOW.period, sector="C", district="Dortmund-Innenstadt")
    report = await build_report(pool, sector_c, "category")
    assert (report.summary.received, report.summary.meetings, report.summary.sent) == (1, 1, 1)
    other = await build_report(pool, ReportFilters(AROUND_NOW.period, sector="G"), "category")
    assert (other.summary.received, other.summary.meetings, other.summary.sent) == (0, 0, 0)


async def test_a_company_that_moves_takes_its_facts_along(pool: Pool) -> None:
    """A company changed after its meetings, deliveries and feedback: all of them follow."""
    moved = CompanyUpdated(
        company_id="co-1",
        name="Bäckerei",
        sector_code="47.11",
        sector_section="G",
        postcode="44787",
        city="Bochum-Mitte",
        size=120,
    )
    await apply(pool, *events(), moved)
    old = await build_report(pool, ReportFilters(AROUND_NOW.period, sector="C"), "category")
    new = ReportFilters(AROUND_NOW.period, sector="G", district="Bochum-Mitte")
    report = await build_report(pool, new, "size_class")
    s = report.summary
    assert (old.summary.received, old.summary.meetings, old.summary.sent) == (0, 0, 0)
    assert (s.received, s.meetings, s.held, s.sent, s.failed) == (1, 1, 1, 1, 1)
    assert report.tables["feedback"].rows == [("market.shop", 1, 4.0, 1, 0, 0)]


async def test_the_neutrality_report_counts_firsts_among_the_tied_and_the_method(
    pool: Pool,
) -> None:
    await apply(pool, *events())
    neutrality = await build_neutrality(pool, AROUND_NOW, "pv-1")
    [row] = neutrality.rows
    expected: dict[str, Any] = {"proposed": 1, "first": 1, "tied": 1, "first_tied": 1}
    assert {k: row[k] for k in expected} == expected
    assert (row["chosen"], row["meetings"]) == (1, 1)
    second = await build_neutrality(pool, AROUND_NOW, "pv-2")
    assert (second.rows[0]["tied"], second.rows[0]["first_tied"]) == (1, 0)
    [method] = neutrality.methods
    assert (method["taxonomy_version"], method["tolerance"], method["weights"]) == (
        "2026.1",
        0.02,
        {"text": 0.3},
    )
    public = await build_neutrality(pool, AROUND_NOW)
    assert public.tables["neutrality"].rows[0][:4] == ("market.shop", 3, 3, 2)
    assert public.fairness["first_tied"] == pytest.approx(0.5)  # pv-1 first once, pv-2 never
