"""Berichte against the real services: after a demo run the report's totals equal the services'
own counts; filters in the URL change the figures; CSV, XLSX and PDF downloads are sound."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, expect
from rich.console import Console

from tests.console.browser import check_page
from tests.console.conftest import TOKEN
from tests.support.harness import ServiceProcess, eventually
from werkbank.demo import Staff, run_demo
from werkbank.sample_data import generate
from werkbank.stack import NatsServer, StackInfo

pytestmark = pytest.mark.integration

ALL_TIME = "von=2000-01-01&bis=2099-12-31"


def console_url(services: dict[str, ServiceProcess]) -> str:
    return services["console"].base_url


async def csv_table(page: Page, base: str, table: str, query: str = ALL_TIME) -> list[list[str]]:
    answer = await page.request.get(f"{base}/berichte/export.csv?{query}&tabelle={table}")
    assert answer.ok, answer.status
    text = (await answer.body()).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


async def report_totals(page: Page, base: str) -> Counter[str]:
    """Needs received, meetings and deliveries sent per channel, as the report counts them."""
    totals: Counter[str] = Counter()
    needs = await csv_table(page, base, "needs")
    totals["needs"] = sum(int(row[1]) for row in needs[1:])
    meetings = await csv_table(page, base, "meetings")
    totals["meetings"] = sum(int(row[1]) for row in meetings[1:])
    for row in (await csv_table(page, base, "deliveries"))[1:]:
        totals[f"sent:{row[0]}"] = int(row[1])
    return totals


async def service_totals(services: dict[str, ServiceProcess]) -> Counter[str]:
    """The same counts through the services' own staff APIs."""
    urls = {name: services[name].base_url for name in ("matching", "booking", "notify")}
    staff = Staff(urls, TOKEN)
    totals: Counter[str] = Counter()
    try:
        needs = await staff.call("matching", "GET", "/api/matching/needs", params={"limit": 500})
        items = needs["items"] if isinstance(needs, dict) else needs
        totals["needs"] = len(items)
        meetings = await staff.call(
            "booking", "GET", "/api/booking/meetings", params={"limit": 1000}
        )
        totals["meetings"] = len(meetings)
        deliveries = await staff.call(
            "notify", "GET", "/api/notify/deliveries", params={"limit": 5000}
        )
        labels = {"email": "E-Mail", "sms": "SMS"}
        for d in deliveries:
            if d["status"] == "sent":
                totals[f"sent:{labels[d['channel']]}"] += 1
    finally:
        await staff.close()
    return totals


def pdf_streams(pdf: bytes) -> bytes:
    """The PDF's compressed streams inflated (without a PDF library): where text and fonts sit."""
    found = [pdf]
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            found.append(zlib.decompress(stream.group(1)))
        except zlib.error:
            continue
    return b"\n".join(found)


@pytest.fixture(scope="module")
def stack(stack: StackInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackInfo]:
    """The session's servers but a NATS of this module's own: the reconciliation compares the
    services' counts with a read model of every event in the streams, and other modules' events
    (a batch test's thousand needs) would be counted too."""
    nats = NatsServer(tmp_path_factory.mktemp("reports-nats") / "store")
    nats.start()
    yield dataclasses.replace(stack, nats_url=nats.url)
    nats.stop()


@pytest.fixture(scope="module")
async def demo(services: dict[str, ServiceProcess]) -> dict[str, Any]:
    data = generate(companies=8, providers=8, seed=19)
    urls = {name: services[name].base_url for name in ("matching", "booking", "notify")}
    result = await run_demo(urls, TOKEN, Console(quiet=True), timeout=120, data=data)
    return {"data": data, "meetings": result.meetings, "deliveries": result.deliveries}


async def test_the_report_totals_equal_the_services_own_counts_after_a_demo_run(
    services: dict[str, ServiceProcess], demo: dict[str, Any], page: Page
) -> None:
    base = console_url(services)
    expected = await service_totals(services)
    assert expected["needs"] == len(demo["data"]["needs"])
    assert expected["meetings"] == len(demo["meetings"]) > 0
    assert expected["sent:E-Mail"] > 0

    seen: list[Counter[str]] = []

    async def reconciled() -> bool:
        seen.append(await report_totals(page, base))
        return all(seen[-1][key] == value for key, value in expected.items())

    try:
        await eventually(reconciled, timeout=90, interval=1.0)
    except AssertionError:
        pytest.fail(f"report {seen[-1] if seen else None} != services {expected}")


async def test_filters_in_the_url_change_the_figures_and_the_page_passes_axe(
    services: dict[str, ServiceProcess], demo: dict[str, Any], page: Page
) -> None:
    base = console_url(services)
    await page.goto(f"{base}/berichte?{ALL_TIME}")
    await expect(page.get_by_role("heading", name="Berichte", level=1)).to_be_visible()
    await expect(page.locator("#summe-bedarfe")).not_to_have_text("0")
    everything = int(await page.locator("#summe-bedarfe").inner_text())
    assert await page.locator("svg[role=img] title").count() == 3
    await check_page(page, "berichte")

    await page.goto(f"{base}/berichte?von=2001-01-01&bis=2001-12-31")
    await expect(page.locator("#summe-bedarfe")).to_have_text("0")

    categories = Counter(need["categories"][0] for need in demo["data"]["needs"].values())
    category, count = categories.most_common(1)[0]
    await page.goto(f"{base}/berichte?{ALL_TIME}")
    await page.get_by_label("Kategorie").select_option(category)
    await page.get_by_role("button", name="Bericht anzeigen").click()
    await expect(page).to_have_url(re.compile(r"kategorie=" + re.escape(category)))
    filtered = int(await page.locator("#summe-bedarfe").inner_text())
    assert count <= filtered < everything

    sms = await csv_table(page, base, "deliveries", ALL_TIME + "&kanal=sms")
    assert [row[0] for row in sms[1:]] == ["SMS"]

    problem = await page.request.get(f"{base}/berichte?von=gestern")
    assert problem.status == 422
    assert (await problem.json())["errors"][0]["field"] == "von"


async def test_export_links_download_sound_csv_xlsx_and_pdf(
    services: dict[str, ServiceProcess], demo: dict[str, Any], page: Page
) -> None:
    base = console_url(services)
    await page.goto(f"{base}/berichte?{ALL_TIME}&kanal=email")
    shown = int(await page.locator("#summe-zugestellt").inner_text())

    async with page.expect_download() as info:
        await page.locator("#tabelle-deliveries ~ p a, a[href*='tabelle=deliveries']").first.click()
    rows = list(
        csv.reader(
            io.StringIO((await (await info.value).path()).read_text("utf-8-sig")), delimiter=";"
        )
    )
    assert rows[0][:3] == ["Kanal", "Zugestellt", "Fehlgeschlagen"]
    assert int(rows[1][1]) == shown

    async with page.expect_download() as info:
        await page.locator("#export-xlsx").click()
    saved = await (await info.value).path()
    workbook = load_workbook(io.BytesIO(saved.read_bytes()), read_only=True)
    assert "Zustellungen" in workbook.sheetnames
    sheet = list(workbook["Zustellungen"].iter_rows(values_only=True))
    assert sheet[0][0] == "Kanal"
    assert sheet[1][1] == shown
    assert {"Bedarfe", "Termine", "Neutralität je Kategorie", "Verfahren"} <= set(
        workbook.sheetnames
    )

    async with page.expect_download() as info:
        await page.locator("#export-pdf").click()
    pdf = (await (await info.value).path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    inflated = pdf_streams(pdf)
    assert b"/Font" in inflated, "the PDF embeds a font"
    assert re.search(rb"\[[^\]]*\]\s*TJ|\)\s*Tj", inflated), "the PDF shows text"


async def test_last_months_report_is_stored_once_by_the_schedule_and_listed(
    services: dict[str, ServiceProcess], page: Page
) -> None:
    base = console_url(services)

    async def listed() -> bool:
        await page.goto(f"{base}/berichte")
        return await page.locator("#monatsberichte a").count() == 1

    await eventually(listed, timeout=60, interval=1.0)
    href = await page.locator("#monatsberichte a").get_attribute("href")
    answer = await page.request.get(base + str(href))
    assert answer.ok
    assert (await answer.body()).startswith(b"%PDF")


async def test_the_public_neutrality_report_names_no_provider_and_explains_the_method(
    services: dict[str, ServiceProcess], demo: dict[str, Any], page: Page
) -> None:
    base = console_url(services)
    await page.goto(f"{base}/berichte/neutralitaet?{ALL_TIME}")
    await expect(
        page.get_by_role("heading", name="So arbeiten Vermittlung und Rotation")
    ).to_be_visible()
    body = await page.locator("main").inner_text()
    for provider in demo["data"]["providers"].values():
        assert provider["name"] not in body
    await expect(page.locator("#tabelle-method tbody tr").first).not_to_contain_text("Keine")
    await check_page(page, "neutralitaet")

    provider_id, provider = next(iter(demo["data"]["providers"].items()))
    await page.goto(f"{base}/berichte/anbieter/{provider_id}?{ALL_TIME}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(provider["name"])
    await check_page(page)

    await page.goto(f"{base}/sprache?lang=en&next=/berichte/neutralitaet")
    await expect(page.get_by_role("heading", name="How matching and rotation work")).to_be_visible()
    await page.goto(f"{base}/sprache?lang=de&next=/berichte")
