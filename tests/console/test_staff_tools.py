"""The week view, the audit trail, the attention list's "no free slot", pins and blocks, run
replays and the batch preview: in a real Chromium against the real services, axe on each page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.console.browser import check_page
from tests.console.conftest import TOKEN
from tests.console.test_journeys import console_url, read_model_has
from tests.support.harness import ServiceProcess, eventually
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


async def wait_for_sample(
    stack: StackInfo, services: dict[str, ServiceProcess], sample: dict[str, Any]
) -> None:
    async def loaded() -> bool:
        return await read_model_has(
            stack,
            services,
            "SELECT count(*) = $1 FROM {s}.needs WHERE need_id = ANY($2)",
            len(sample["needs"]),
            list(sample["needs"]),
        )

    await eventually(loaded, timeout=90)


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


async def first_proposal(page: Page, base: str, need_id: str) -> tuple[Locator, str]:
    """Match the need again: its first proposal and that proposal's provider id."""
    await page.goto(f"{base}/bedarfe/{need_id}")
    await page.get_by_role("button", name="Neu abgleichen").click()
    first = page.locator("section.proposal[data-rank='1']")
    await expect(first).to_be_visible()
    href = await first.locator("h3 a").get_attribute("href")
    assert href is not None
    return first, href.rsplit("/", 1)[-1]


async def match_and_accept(page: Page, base: str, need_id: str) -> str:
    """Match the need again and accept its first proposal; the first proposal's provider id."""
    first, provider_id = await first_proposal(page, base, need_id)
    await first.get_by_role("button", name="Vorschlag annehmen").click()
    await expect(page.locator("#flash")).to_be_visible()
    return provider_id


async def test_a_booked_meeting_shows_in_its_week_and_the_audit_trail_names_who_did_what(
    services: dict[str, ServiceProcess], sample: dict[str, Any], stack: StackInfo, page: Page
) -> None:
    base = console_url(services)
    await wait_for_sample(stack, services, sample)
    need_id = next(iter(sample["needs"]))
    await match_and_accept(page, base, need_id)
    meeting_link = page.get_by_role("link", name=re.compile(r"^Termin: "))

    async def booked() -> bool:
        await page.reload()
        return await meeting_link.count() > 0

    await eventually(booked, timeout=30, interval=0.5)
    await meeting_link.first.click()
    meeting_url = page.url
    start = datetime.strptime(await page.locator("#meeting-start").inner_text(), "%d.%m.%Y %H:%M")
    label = iso_week(start)
    following = iso_week(start + timedelta(days=7))

    await page.goto(f"{base}/termine")
    await page.get_by_role("link", name="Wochenansicht").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wochenansicht")
    await page.goto(f"{base}/termine/woche?woche={label}")
    # by its link: other tests' meetings (in the shared streams) may carry the same title
    chip = page.locator(
        f"#week-grid a.meeting-chip[href='/termine/{meeting_url.rsplit('/', 1)[-1]}']"
    )
    await expect(chip.first).to_be_visible()
    await expect(chip.first).to_contain_text(start.strftime("%H:%M"))
    await check_page(page, "termine_woche")
    # by keyboard alone: to the next week and back, the week in the URL each time
    await page.locator("#next-week").focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(f"woche={following}"))
    await expect(chip).to_have_count(0)
    await page.locator("#previous-week").focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(f"woche={label}"))
    await expect(chip.first).to_be_visible()
    await chip.first.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(meeting_url)

    await page.get_by_role("link", name="Protokoll dieses Termins").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Protokoll")

    await page.goto(f"{base}/bedarfe/{need_id}")
    await page.get_by_role("link", name="Protokoll dieses Bedarfs").click()
    trail = page.locator("#audit-trail tbody tr")

    async def recorded() -> bool:
        await page.reload()
        return await trail.filter(has_text="matching.accept").count() >= 1

    await eventually(recorded, timeout=30, interval=0.5)
    await expect(trail.filter(has_text="matching.match_need").first).to_contain_text("Jonas Becker")
    await check_page(page, "protokoll")
    await page.get_by_label("Aktion").select_option("matching.accept")
    await page.get_by_role("button", name="Filtern").click()
    await expect(page).to_have_url(re.compile(r"aktion=matching.accept"))
    accepts = await trail.count()
    assert accepts >= 1
    await expect(trail.filter(has_text="matching.accept")).to_have_count(accepts)
    await trail.first.get_by_role("link", name="Jonas Becker").click()
    await expect(page).to_have_url(re.compile(r"person=jonas.becker"))
    assert await trail.count() >= 2
    await expect(trail.filter(has_text="Miriam Schulz")).to_have_count(0)
    # the same pages in English
    await page.goto(f"{base}/sprache?lang=en&next=/termine/woche")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Week view")
    await expect(page.locator("#next-week")).to_have_text("Next week →")
    await page.goto(f"{base}/protokoll")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    await page.goto(f"{base}/sprache?lang=de&next=/")


async def test_an_accepted_match_without_a_free_slot_is_listed_for_attention(
    services: dict[str, ServiceProcess], sample: dict[str, Any], stack: StackInfo, page: Page
) -> None:
    base = console_url(services)
    await wait_for_sample(stack, services, sample)
    need_id = list(sample["needs"])[1]
    first, provider_id = await first_proposal(page, base, need_id)
    availability = (
        f"{services['booking'].base_url}/api/booking/providers/{provider_id}/availability"
    )
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as booking:
        never = await booking.put(availability, json={"weekly": {}})
        assert never.status_code == 200, never.text
        try:
            await first.get_by_role("button", name="Vorschlag annehmen").click()
            await expect(page.locator("#flash")).to_be_visible()

            async def dead_lettered() -> bool:
                return await read_model_has(
                    stack,
                    services,
                    "SELECT count(*) > 0 FROM {s}.dead_letters WHERE state = 'open' "
                    "AND reason LIKE '%no free slot within%' "
                    "AND original_body LIKE '%' || $1 || '%'",
                    need_id,
                )

            await eventually(dead_lettered, timeout=30)
        finally:
            await booking.delete(availability)
    await page.goto(base + "/")
    tile = page.locator("#attention-no-slot")
    count = int(await tile.locator(".count").inner_text())
    assert count >= 1
    await tile.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ohne freien Termin")
    rows = page.locator("#no-slot tbody tr")
    await expect(rows).to_have_count(count)
    ours = rows.filter(has=page.locator(f"a[href='/bedarfe/{need_id}']"))
    await expect(ours).to_have_count(1)
    await check_page(page, "ohne_freie_zeit")
    # staff replay it from the list once the provider is available again: booked, and audited
    await ours.get_by_role("link", name=re.compile("Erneut einspielen")).click()
    await page.get_by_role("button", name="Ja, erneut einspielen").click()
    await expect(page.locator("#flash")).to_be_visible()
    await page.goto(f"{base}/protokoll?aktion=console.replay_dead_letter")
    trail = page.locator("#audit-trail tbody tr")

    async def audited() -> bool:
        await page.reload()
        return await trail.filter(has_text="Jonas Becker").count() >= 1

    await eventually(audited, timeout=30, interval=0.5)
    await page.goto(f"{base}/bedarfe/{need_id}")
    meeting_link = page.get_by_role("link", name=re.compile(r"^Termin: "))

    async def booked() -> bool:
        await page.reload()
        return await meeting_link.count() > 0

    await eventually(booked, timeout=30, interval=0.5)


async def test_staff_block_a_provider_replay_a_run_and_confirm_a_previewed_batch(
    services: dict[str, ServiceProcess], sample: dict[str, Any], stack: StackInfo, admin_page: Page
) -> None:
    page = admin_page
    base = console_url(services)
    await wait_for_sample(stack, services, sample)
    need_id = list(sample["needs"])[2]
    _, blocked = await first_proposal(page, base, need_id)

    await page.get_by_role("button", name="Anbieter festsetzen oder ausschließen").click()
    await expect(page.locator("#error-summary")).to_contain_text("Bitte einen Anbieter angeben.")
    await page.get_by_label("Anbieter (Kennung)").fill(blocked)
    await page.get_by_label("Ausschließen: bei keinem Abgleich dieses Bedarfs vorschlagen").check()
    await page.locator("#feld-override-reason").fill("Interessenkonflikt")
    await page.get_by_role("button", name="Anbieter festsetzen oder ausschließen").click()
    await expect(page.locator("#flash")).to_be_visible()
    await expect(page.locator("#overrides")).to_contain_text("ausgeschlossen")
    await expect(page.locator("#overrides")).to_contain_text("Interessenkonflikt")
    await check_page(page, "bedarf_ausschluss")
    await page.get_by_role("button", name="Neu abgleichen").click()
    await expect(page.locator("#flash")).to_be_visible()
    await expect(page.locator(f"section.proposal a[href='/anbieter/{blocked}']")).to_have_count(0)
    await page.locator("#overrides").get_by_role("button", name=re.compile("Aufheben")).click()
    await expect(page.locator("#overrides")).to_have_count(0)

    await (
        page.locator("#runs")
        .get_by_role("button", name=re.compile("Ergebnis nachrechnen"))
        .first.click()
    )
    await expect(page.get_by_role("heading", level=1)).to_have_text("Abgleich nachgerechnet")
    await expect(page.locator("#replay-same")).to_be_visible()
    recorded = page.locator("#replay-recorded tbody tr")
    assert await recorded.count() >= 1
    await expect(page.locator("#replay-replayed tbody tr")).to_have_count(await recorded.count())
    await check_page(page, "abgleich_nachgerechnet")

    await page.goto(f"{base}/batch")
    await page.get_by_role("button", name="Vorschau berechnen").click()
    await expect(page).to_have_url(re.compile(r"/batch/[^/]+$"))
    status = page.locator("#job-status")

    async def previewed() -> bool:
        await page.reload()
        return "Vorschau bereit" in await status.inner_text()

    await eventually(previewed, timeout=120, interval=1.0)
    assigned = page.locator("#assignments tbody tr")
    unassigned = page.locator("#unassigned tbody tr")
    assert await assigned.count() + await unassigned.count() >= 1
    await check_page(page, "batch_vorschau")
    await page.get_by_role("button", name="Zuteilung bestätigen").click()
    await expect(page.locator("#flash")).to_be_visible()
    await expect(status).to_contain_text("bestätigt")
    await expect(page.locator("#job-run")).to_be_visible()
