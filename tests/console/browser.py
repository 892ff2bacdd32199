"""Debian's Chromium under Playwright, axe-core on every page, and a screenshot of each page."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from playwright.async_api import Page

HERE = Path(__file__).parent
AXE = HERE / "axe.min.js"  # axe-core 4.14.1 from the npm registry (MPL-2.0, see axe-LICENSE.txt)
SCREENS = HERE.parents[1] / "docs" / "screens"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SEVERE = {"serious", "critical"}


def chromium_path() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not found:
        msg = (
            "Chromium is missing: run `sudo apt-get install -y chromium` (or `make setup` as root)"
        )
        raise RuntimeError(msg)
    return found


async def severe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA rules on the page as it is now: serious and critical only."""
    await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v.get("impact") in SEVERE
    ]


async def check_page(page: Page, screen: str | None = None) -> None:
    """Every page the suite visits: no serious or critical axe violation; a screenshot."""
    violations = await severe_violations(page)
    assert not violations, f"{page.url}: {violations}"
    if screen:
        SCREENS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENS / f"{screen}.png"), full_page=True)
