"""The console against the real services and the embedded stack, in a real Chromium."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from rich.console import Console

from tests.console.browser import CHROMIUM_ARGS, chromium_path
from tests.support.harness import ServiceProcess, eventually
from werkbank.demo import Staff, load_sample
from werkbank.sample_data import generate
from werkbank.stack import StackInfo

TOKEN = "console-test-token"
STAFF_USER = "jonas.becker"
VIEWER_USER = "lena.vogt"
ADMIN_USER = "miriam.schulz"
# Generous: on a busy 2-core machine importing numpy and scipy alone can take half a minute.
STARTUP_SECONDS = 120.0


@pytest.fixture(scope="module")
async def services(stack: StackInfo) -> AsyncIterator[dict[str, ServiceProcess]]:
    suffix = uuid.uuid4().hex[:6]
    running: dict[str, ServiceProcess] = {}
    try:
        for name in ("matching", "booking", "notify"):
            prefix = f"{name.upper()}_"
            env = {
                **stack.service_env(prefix),
                f"{prefix}DB_SCHEMA": f"cons_{name}_{suffix}",
                f"{prefix}STAFF_TOKEN": TOKEN,
                f"{prefix}STATIC_TOKEN_ENABLED": "true",
            }
            running[name] = ServiceProcess(f"services.{name}", env, f"{prefix}HTTP_PORT")
            await running[name].start(timeout=STARTUP_SECONDS)
        env = {
            **stack.service_env("CONSOLE_"),
            "CONSOLE_DB_SCHEMA": f"cons_console_{suffix}",
            "CONSOLE_STAFF_TOKEN": TOKEN,
            "CONSOLE_MATCHING_URL": running["matching"].base_url,
            "CONSOLE_BOOKING_URL": running["booking"].base_url,
            "CONSOLE_NOTIFY_URL": running["notify"].base_url,
            "CONSOLE_REPLAY_NATS_URL": stack.ops_nats_url,
            "CONSOLE_LOG_JSON": "true",
        }
        running["console"] = ServiceProcess("services.console", env, "CONSOLE_HTTP_PORT")
        await running["console"].start(timeout=STARTUP_SECONDS)
        yield running
    finally:
        for process in reversed(running.values()):
            process.stop()


@pytest.fixture(scope="module")
async def sample(services: dict[str, ServiceProcess]) -> dict[str, Any]:
    """A small region loaded through matching's API; the console learns it from the events."""
    data = generate(companies=6, providers=8, seed=12)
    urls = {name: services[name].base_url for name in ("matching", "booking", "notify")}
    staff = Staff(urls, TOKEN)
    try:
        await load_sample(staff, data)
    finally:
        await staff.close()
    return data


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


async def sign_in(page: Page, base: str, stack: StackInfo, username: str) -> None:
    """Through the provider's own form, as a person would; back on the page first asked for."""
    await page.goto(base + "/")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(stack.oidc_users[username]["password"])
    await page.get_by_role("button", name="Anmelden").click()
    await page.wait_for_url(base + "/")


@pytest.fixture
async def anonymous_page(browser: Browser) -> AsyncIterator[Page]:
    context: BrowserContext = await browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="de-DE", timezone_id="Europe/Berlin"
    )
    opened = await context.new_page()
    opened.set_default_timeout(15_000)
    try:
        yield opened
    finally:
        await context.close()


@pytest.fixture
async def page(anonymous_page: Page, services: dict[str, ServiceProcess], stack: StackInfo) -> Page:
    """Signed in as a member of staff (``jonas.becker``)."""
    await sign_in(anonymous_page, services["console"].base_url, stack, STAFF_USER)
    return anonymous_page


@pytest.fixture
async def admin_page(
    anonymous_page: Page, services: dict[str, ServiceProcess], stack: StackInfo
) -> Page:
    """Signed in as an administrator (``miriam.schulz``): imports need the role admin."""
    await sign_in(anonymous_page, services["console"].base_url, stack, ADMIN_USER)
    return anonymous_page


__all__ = ["Console", "eventually"]
