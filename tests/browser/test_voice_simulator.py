"""The voice simulator page in Debian's Chromium: press keys, see what the caller hears."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, expect, sync_playwright

from bot.core.deps import get_rasa
from bot.main import create_app
from tests.conftest import free_port, make_settings
from tests.gateway.conftest import RecordingRasa

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).with_name("screenshots")


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The gateway served by uvicorn in a thread (the simulator posts to itself over HTTP)."""
    settings = make_settings(tmp_path_factory.mktemp("voice-sim"))
    app = create_app(settings)
    app.dependency_overrides[get_rasa] = lambda: RecordingRasa()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/simulator/voice", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run `make browser-deps` (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


def test_a_caller_walks_the_menus_with_the_keypad(gateway_url: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 480, "height": 1000})
    page.goto(f"{gateway_url}/simulator/voice")
    expect(page.get_by_role("heading")).to_contain_text("voice simulator")

    page.get_by_role("button", name="Call").click()
    heard = page.get_by_label("What the caller hears")
    expect(heard).to_contain_text("हिंदी के लिए 2 दबाएँ", timeout=15_000)
    expect(heard).to_contain_text("বাংলার জন্য 3 টিপুন")

    keypad = page.get_by_role("group", name="Keypad")
    keypad.get_by_role("button", name="2", exact=True).click()  # Hindi, sent after a pause
    expect(heard).to_contain_text("आपातकाल में 9 दबाएँ", timeout=15_000)
    expect(page.get_by_role("button", name="Say")).to_be_enabled()  # Hindi has speech

    keypad.get_by_role("button", name="1", exact=True).click()  # schemes
    expect(heard).to_contain_text("राशन के लिए 1 दबाएँ", timeout=15_000)
    keypad.get_by_role("button", name="1", exact=True).click()  # ration
    expect(heard).to_contain_text("1 4 4 4 5", timeout=15_000)

    keypad.get_by_role("button", name="9", exact=True).click()
    expect(heard.locator(".line.bot").last).to_contain_text("दबाएँ", timeout=15_000)
    page.get_by_label("Speech").fill("मरना चाहता हूँ")
    page.get_by_role("button", name="Say").click()
    expect(heard).to_contain_text("Connecting: 14416", timeout=15_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "voice-simulator.png", full_page=True)
    page.close()
