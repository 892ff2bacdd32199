"""Staff journeys in a real Chromium against the real services: find, explain, accept, see the
meeting and its invites, reschedule, cancel, import, replay; axe-core on every page."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote_plus

import asyncpg
import nats
import pytest
from playwright.async_api import Page, expect

from tests.console.browser import check_page
from tests.console.conftest import STAFF_USER, VIEWER_USER, sign_in
from tests.support.harness import ServiceProcess, eventually
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration


def console_url(services: dict[str, ServiceProcess]) -> str:
    return services["console"].base_url


async def read_model_has(
    stack: StackInfo, services: dict[str, ServiceProcess], sql: str, *args: Any
) -> bool:
    schema = services["console"].env["CONSOLE_DB_SCHEMA"]
    conn = await asyncpg.connect(stack.database_url)
    try:
        return bool(await conn.fetchval(sql.replace("{s}", schema), *args))
    finally:
        await conn.close()


async def test_staff_find_a_need_by_a_word_accept_its_first_proposal_and_follow_the_meeting(
    services: dict[str, ServiceProcess], sample: dict[str, Any], stack: StackInfo, page: Page
) -> None:
    base = console_url(services)
    need = next(iter(sample["needs"].values()))
    word = max(re.findall(r"\w{6,}", need["description"]), key=len)

    async def loaded() -> bool:
        return await read_model_has(
            stack,
            services,
            "SELECT count(*) = $1 FROM {s}.needs WHERE need_id = ANY($2)",
            len(sample["needs"]),
            list(sample["needs"]),
        )

    await eventually(loaded, timeout=90)  # the console first reads the streams from their start

    await page.goto(base + "/")
    await expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    await check_page(page, "uebersicht")

    await page.goto(base + "/bedarfe")
    await page.get_by_label("Suche im Text").fill(word)
    await page.get_by_role("button", name="Filtern").click()
    await expect(page).to_have_url(re.compile(r"q=" + re.escape(quote_plus(word))))
    link = page.get_by_role("link", name=need["title"]).first
    await expect(link).to_be_visible()
    await check_page(page, "bedarfe")
    await link.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(need["title"])

    await page.get_by_role("button", name="Neu abgleichen").click()
    first = page.locator("section.proposal[data-rank='1']")
    await expect(first).to_be_visible()
    await expect(first.get_by_role("heading", name="Warum dieser Rang")).to_be_visible()
    reasons = first.locator("ul.reasons li")
    assert await reasons.count() >= 2, "the first proposal explains its rank per criterion"
    await expect(reasons.first).to_contain_text("+")
    await check_page(page, "bedarf")

    await first.get_by_role("button", name="Vorschlag annehmen").click()
    await expect(page.locator("#flash")).to_be_visible()
    await expect(first.locator(".kern-badge")).to_have_text("angenommen")

    meeting_link = page.get_by_role("link", name=re.compile(r"^Termin: "))

    async def booked() -> bool:
        await page.reload()
        return await meeting_link.count() > 0

    await eventually(booked, timeout=30, interval=0.5)
    await meeting_link.first.click()
    await expect(page.locator("#meeting-room")).not_to_have_text("–")
    await expect(page.locator("#meeting-status")).to_have_text("bestätigt")

    async def invites_delivered() -> bool:
        await page.reload()
        cells = page.locator("#deliveries td", has_text="zugestellt")
        return await cells.count() >= 2

    await eventually(invites_delivered, timeout=30, interval=0.5)
    await check_page(page, "termin")

    before = await page.locator("#meeting-start").inner_text()
    # booking's own search offers only free times: the first one offered can be taken
    offered = page.locator("#reschedule-form input[name=slot]")
    assert await offered.count() >= 5
    await page.locator("#slot-2").check()
    chosen = await page.locator("label[for=slot-2]").inner_text()
    await page.get_by_role("button", name="Verschieben").click()
    await expect(page.locator("#flash")).to_be_visible()
    await expect(page.locator("#meeting-start")).not_to_have_text(before)
    _, day, hour = chosen.split()
    started = await page.locator("#meeting-start").inner_text()
    assert started.startswith(day), (chosen, started)
    assert started.endswith(hour), (chosen, started)

    await page.get_by_label("Grund der Absage").fill("Unternehmen hat abgesagt")
    await page.get_by_role("button", name="Termin absagen").click()
    await expect(page.locator("#meeting-status")).to_have_text("abgesagt")

    await page.goto(base + "/termine")
    await expect(page.get_by_role("heading", name="Termine")).to_be_visible()
    await check_page(page, "termine")


async def test_an_import_with_one_bad_row_shows_the_row_error_and_stores_nothing(
    services: dict[str, ServiceProcess],
    sample: dict[str, Any],
    stack: StackInfo,
    admin_page: Page,
    tmp_path: Any,
) -> None:
    page = admin_page
    csv_path = tmp_path / "unternehmen.csv"
    csv_path.write_text(
        "company_id,name,sector_code,postcode,city,contact_name,contact_email\n"
        "imp-1,Bäckerei Import GmbH,10.71,44135,Dortmund,Anna Beispiel,anna@example.org\n"
        "imp-2,Schreinerei Fehler,16.23,4413,Dortmund,Ben Beispiel,ben@example.org\n",
        encoding="utf-8",
    )
    await page.goto(console_url(services) + "/import")
    await page.get_by_label("Art der Datensätze").select_option("companies")
    await page.get_by_label("Datei (CSV, XLSX)").set_input_files(str(csv_path))
    await page.get_by_role("button", name="Datei prüfen und importieren").click()
    errors = page.locator("#row-errors")
    await expect(errors).to_contain_text("Nichts wurde gespeichert.")
    await expect(errors.locator("tbody tr")).to_have_count(1)
    await expect(errors.locator("tbody tr td").first).to_have_text("2")
    await expect(errors).to_contain_text("postcode")
    await check_page(page, "import")
    assert not await read_model_has(
        stack, services, "SELECT count(*) > 0 FROM {s}.companies WHERE company_id = 'imp-1'"
    )


async def test_a_form_shows_the_apis_field_error_beside_the_field_in_german(
    services: dict[str, ServiceProcess], sample: dict[str, Any], page: Page
) -> None:
    await page.goto(console_url(services) + "/unternehmen/neu")
    await page.get_by_label("Kennung").fill("kmu-neu-1")
    await page.get_by_label("Name").fill("Neue Firma")
    await page.get_by_label("Branche (WZ 2008)").fill("10.71")
    await page.get_by_label("PLZ").fill("441")
    await page.get_by_label("Stadt").fill("Dortmund")
    await page.get_by_label("Ansprechperson").fill("Clara Beispiel")
    await page.get_by_role("button", name="Speichern").click()
    summary = page.locator("#error-summary")
    await expect(summary).to_be_visible()
    await expect(page.locator("#feld-postcode-fehler")).to_have_text("Das Format stimmt nicht.")
    await expect(page.get_by_label("Stadt")).to_have_value("Dortmund")
    await summary.get_by_role("link").first.click()
    await expect(page.locator("#feld-postcode")).to_be_focused()
    await check_page(page, "unternehmen-neu")

    await page.get_by_label("PLZ").fill("44135")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.locator("#flash")).to_be_visible()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Neue Firma")
    await check_page(page, "unternehmen")


async def test_lists_of_providers_companies_and_deliveries_render_and_page(
    services: dict[str, ServiceProcess], sample: dict[str, Any], page: Page
) -> None:
    base = console_url(services)
    await page.goto(base + "/anbieter")
    first = page.locator("tbody tr").first
    await expect(first).to_be_visible()
    await check_page(page, "anbieter")
    await first.get_by_role("link").click()
    await expect(page.locator("#shown")).to_be_visible()
    await check_page(page, "anbieter-detail")
    await page.goto(base + "/unternehmen")
    await expect(page.locator("tbody tr").first).to_be_visible()
    await check_page(page)
    await page.goto(base + "/zustellungen?status=delivered")
    await check_page(page, "zustellungen")
    await page.goto(base + "/batch")
    await check_page(page, "batch")
    await page.goto(base + "/sprache?lang=en&next=/bedarfe")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Needs")
    await page.goto(base + "/sprache?lang=de&next=/")


async def test_a_dead_letter_is_listed_by_consumer_and_reason_and_replayed_after_confirmation(
    services: dict[str, ServiceProcess], sample: dict[str, Any], stack: StackInfo, page: Page
) -> None:
    client = await nats.connect(stack.nats_url)
    try:
        js = client.jetstream()
        await js.publish(
            "matching.match.accepted", b'{"not": "an event"}', headers={"Nats-Msg-Id": "broken-1"}
        )

        async def arrived() -> bool:
            return await read_model_has(
                stack,
                services,
                "SELECT count(*) > 0 FROM {s}.dead_letters WHERE original_msg_id = 'broken-1'",
            )

        await eventually(arrived, timeout=20)
        await page.goto(console_url(services) + "/stoerungen")
        group = page.locator(".dead-letter-group", has_text="booking-on-matching").filter(
            has_text="invalid envelope"
        )
        await expect(group).to_contain_text("invalid envelope")
        await check_page(page, "stoerungen")
        await group.get_by_role("link", name=re.compile("Erneut einspielen")).first.click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Wirklich erneut einspielen?"
        )
        await check_page(page)
        await page.get_by_role("button", name="Ja, erneut einspielen").click()
        await expect(page.locator("#flash")).to_be_visible()
        replayed = await js.get_last_msg("MATCHING", "matching.match.accepted")
        assert (replayed.headers or {}).get("Nats-Msg-Id", "").startswith("broken-1-replay-")
        assert await read_model_has(
            stack,
            services,
            "SELECT state = 'replayed' FROM {s}.dead_letters WHERE original_msg_id = 'broken-1' "
            "AND consumer = 'booking-on-matching'",
        )
    finally:
        await client.close()


async def _accepts_by(stack: StackInfo, services: dict[str, ServiceProcess], subject: str) -> int:
    schema = services["matching"].env["MATCHING_DB_SCHEMA"]
    conn = await asyncpg.connect(stack.database_url)
    try:
        count: int = await conn.fetchval(
            f"SELECT count(*) FROM {schema}.audit_log "
            "WHERE action = 'matching.accept' AND outcome = 'succeeded' AND actor_subject = $1",
            subject,
        )
        return count
    finally:
        await conn.close()


async def test_staff_sign_in_at_the_provider_act_in_their_own_name_and_sign_out(
    services: dict[str, ServiceProcess],
    sample: dict[str, Any],
    stack: StackInfo,
    anonymous_page: Page,
) -> None:
    page = anonymous_page
    base = console_url(services)
    need_id = list(sample["needs"])[-1]
    await page.goto(f"{base}/bedarfe/{need_id}")
    await expect(page.get_by_role("button", name="Anmelden")).to_be_visible()
    await check_page(page, "anmeldung")
    await page.locator("input[name=username]").fill(STAFF_USER)
    await page.locator("input[name=password]").fill(stack.oidc_users[STAFF_USER]["password"])
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page).to_have_url(f"{base}/bedarfe/{need_id}")
    await expect(page.locator("header")).to_contain_text("Jonas Becker")

    before = await _accepts_by(stack, services, STAFF_USER)
    await page.get_by_role("button", name="Neu abgleichen").click()
    first = page.locator("section.proposal[data-rank='1']")
    await first.get_by_role("button", name="Vorschlag annehmen").click()
    await expect(first.locator(".kern-badge")).to_have_text("angenommen")
    assert await _accepts_by(stack, services, STAFF_USER) == before + 1

    await page.get_by_role("button", name="Abmelden").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Abgemeldet")
    await check_page(page, "abgemeldet")
    await page.goto(f"{base}/bedarfe")
    await expect(page.locator("input[name=username]")).to_be_visible()
    await expect(page.get_by_role("button", name="Anmelden")).to_be_visible()


async def test_a_viewer_sees_no_actions_and_a_direct_post_is_refused_in_german(
    services: dict[str, ServiceProcess],
    sample: dict[str, Any],
    stack: StackInfo,
    anonymous_page: Page,
) -> None:
    page = anonymous_page
    base = console_url(services)
    await sign_in(page, base, stack, VIEWER_USER)
    await expect(page.locator("header")).to_contain_text("Lena Vogt")
    need_id = next(iter(sample["needs"]))
    await page.goto(f"{base}/bedarfe/{need_id}")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert await page.get_by_role("button", name="Neu abgleichen").count() == 0
    assert await page.get_by_role("button", name="Vorschlag annehmen").count() == 0
    assert await page.locator("main form[method=post]").count() == 0

    headers = await page.locator("body").get_attribute("hx-headers") or "{}"
    csrf = json.loads(headers)["X-CSRF-Token"]
    answer = await page.request.post(
        f"{base}/bedarfe/{need_id}/abgleichen", form={"csrf_token": csrf}, max_redirects=0
    )
    assert answer.status == 403
    assert "nötig ist die Rolle „Sachbearbeitung“ (staff)" in await answer.text()


async def test_a_return_from_the_provider_with_a_forged_state_signs_nobody_in(
    services: dict[str, ServiceProcess], anonymous_page: Page
) -> None:
    page = anonymous_page
    base = console_url(services)
    await page.goto(f"{base}/anmelden/rueckkehr?code=stolen&state=forged")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung fehlgeschlagen")
    await page.goto(f"{base}/bedarfe")
    await expect(page.get_by_role("button", name="Anmelden")).to_be_visible()
    assert not page.url.startswith(base)
