"""Datenschutz in a real Chromium: an administrator asks for a company's export, downloads the
JSON and the German summary, then erases the company after a confirmation page naming what
goes, and follows the request until every service has confirmed; axe-core on every page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.console.browser import check_page
from tests.console.test_journeys import read_model_has
from tests.support.harness import ServiceProcess, eventually
from werkbank.stack import StackInfo

pytestmark = pytest.mark.integration
SERVICES = ("Vermittlung", "Terminbuchung", "Benachrichtigungen", "Verwaltungskonsole")


async def _company_in_the_read_model(
    stack: StackInfo, services: dict[str, ServiceProcess], company_id: str
) -> None:
    async def arrived() -> bool:
        return await read_model_has(
            stack, services, "SELECT count(*) = 1 FROM {s}.companies WHERE company_id = $1",
            company_id,
        )  # fmt: skip

    await eventually(arrived, timeout=90)


async def _download(page: Page, name: str) -> str:
    async with page.expect_download() as started:
        await page.get_by_role("link", name=name).click()
    download = await started.value
    path = await download.path()
    return Path(path).read_text(encoding="utf-8")


async def test_an_administrator_exports_then_erases_a_company_through_the_console(
    services: dict[str, ServiceProcess],
    sample: dict[str, Any],
    stack: StackInfo,
    admin_page: Page,
) -> None:
    page = admin_page
    base = services["console"].base_url
    company_id, company = sorted(sample["companies"].items())[-1]
    contact = company["contacts"][0]
    await _company_in_the_read_model(stack, services, company_id)

    await page.goto(f"{base}/unternehmen/{company_id}")
    await page.get_by_role("link", name="Auskunft und Löschung").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Datenschutz: {company['name']}"
    )
    await check_page(page, "datenschutz")

    await page.get_by_role("button", name="Auskunft anfordern").click()
    await expect(page).to_have_url(re.compile(r"/datenschutz/auskuenfte/export-[0-9a-f]+$"))
    await expect(page.locator("#export-status")).to_have_text("Erledigt", timeout=60_000)
    await check_page(page, "auskunft")
    document = json.loads(await _download(page, "Auskunft als JSON herunterladen"))
    assert set(document["services"]) == {"matching", "booking", "notify", "console"}
    assert contact["email"] in json.dumps(document["services"]["matching"], ensure_ascii=False)
    summary = await _download(page, "Lesbare Zusammenfassung herunterladen")
    assert "Auskunft nach Art. 15 DSGVO" in summary
    assert contact["name"] in summary

    await page.goto(f"{base}/datenschutz/unternehmen/{company_id}")
    await page.get_by_role("link", name="Löschen …").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wirklich löschen?")
    await expect(page.locator("#erased")).to_contain_text(company["name"])
    await check_page(page, "loeschen-bestaetigen")
    await page.get_by_role("button", name="Ja, endgültig löschen").click()
    await expect(page).to_have_url(re.compile(r"/datenschutz/loeschungen/erase-[0-9a-f]+$"))
    # The page follows the request (htmx) until every service has confirmed it.
    await expect(page.locator("#erasure-status")).to_have_text("Erledigt", timeout=90_000)
    for service in SERVICES:
        await expect(page.locator("#confirmations")).to_contain_text(service)
    await check_page(page, "loeschauftrag")

    async def erased_in_the_read_model() -> bool:
        return await read_model_has(
            stack, services,
            "SELECT name LIKE '[gelöscht %' FROM {s}.companies WHERE company_id = $1", company_id,
        )  # fmt: skip

    await eventually(erased_in_the_read_model, timeout=30)
    await page.goto(f"{base}/unternehmen/{company_id}")
    await expect(page.get_by_role("heading", level=1)).not_to_have_text(company["name"])


async def test_staff_see_no_privacy_actions_and_cannot_post_them(
    services: dict[str, ServiceProcess], sample: dict[str, Any], stack: StackInfo, page: Page
) -> None:
    base = services["console"].base_url
    company_id = sorted(sample["companies"])[0]
    await _company_in_the_read_model(stack, services, company_id)

    await page.goto(f"{base}/unternehmen/{company_id}")
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(page.get_by_role("link", name="Auskunft und Löschung")).to_have_count(0)
    await page.goto(f"{base}/datenschutz/unternehmen/{company_id}/loeschen")
    await expect(page.locator("#read-only")).to_be_visible()
    await expect(page.get_by_role("button", name="Ja, endgültig löschen")).to_have_count(0)
    await check_page(page)
    headers = await page.locator("body").get_attribute("hx-headers")
    csrf = json.loads(headers or "{}")["X-CSRF-Token"]
    for action in ("loeschen", "auskunft"):
        refused = await page.request.post(
            f"{base}/datenschutz/unternehmen/{company_id}/{action}", form={"csrf_token": csrf}
        )
        assert refused.status == 403, action
