"""The simulator page in Debian's Chromium, driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.conftest import Helpline

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).with_name("screenshots")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make browser-deps` (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def test_a_person_chats_with_the_bot_in_the_simulator(helpline: Helpline, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 480, "height": 800})
    page.goto(f"{helpline.url}/simulator")
    expect(page.get_by_role("heading")).to_contain_text("Sahay")

    page.get_by_label("Message").fill("hi")
    page.get_by_role("button", name="Send").click()

    expect(page.locator(".msg.user")).to_have_text("hi")
    menu = page.locator(".msg.bot").first
    expect(menu).to_contain_text("বাংলা", timeout=30_000)
    expect(menu).to_contain_text("தமிழ்")

    page.get_by_label("Message").fill("3")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.bot").nth(1)).to_contain_text("বাংলা", timeout=30_000)
    expect(page.locator(".msg.bot").nth(2)).to_contain_text("112", timeout=30_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "simulator.png", full_page=True)
    page.close()
