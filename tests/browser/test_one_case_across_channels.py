"""A WhatsApp conversation and a call from the same number are one case in the console.

The gateway runs in-process under uvicorn with a stand-in for Rasa; the person writes on
WhatsApp and calls, both by requests signed as Twilio signs them; a counsellor opens the
call's case in Chromium and sees the WhatsApp conversation beside it, with the person's
safety choices — and marks the number abusive.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from bot.cli import add_counsellor
from bot.core.config import Settings
from bot.core.deps import get_rasa
from bot.main import create_app
from tests.browser.test_voice_simulator import SCREENSHOTS
from tests.browser.test_voice_simulator import browser as browser  # the shared Chromium
from tests.conftest import free_port, make_settings, post_signed, whatsapp_form
from tests.gateway.conftest import RecordingRasa

pytestmark = pytest.mark.browser

PASSWORD = "a long test password"
PHONE = "+919812377777"
WHATSAPP_TEXT = "ठेकेदार ने तीन महीने से पैसे नहीं दिए, मैं सूरत में हूँ"


@dataclass
class Served:
    url: str
    settings: Settings


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    settings = make_settings(tmp_path_factory.mktemp("one-case"))
    app = create_app(settings)
    app.dependency_overrides[get_rasa] = lambda: RecordingRasa()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield Served(url=url, settings=settings)
    server.should_exit = True
    thread.join(timeout=10)


def call(served: Served, sid: str, path: str, **fields: str) -> None:
    form = {
        "CallSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": PHONE,
        "To": "+918000000000",
        "CallStatus": "in-progress",
        **fields,
    }
    with httpx.Client(timeout=30) as client:
        assert post_signed(client, f"{served.url}{path}", form).status_code == 200


def test_a_chat_and_a_call_from_one_number_are_one_case(served: Served, page: Page) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    add_counsellor(
        database_url=served.settings.database_url,
        username="meera",
        name="Meera",
        role="counsellor",
        languages=["hi"],
        password=PASSWORD,
    )
    with httpx.Client(timeout=30) as client:
        form = whatsapp_form(WHATSAPP_TEXT, sender=PHONE)
        assert post_signed(client, f"{served.url}/twilio/whatsapp", form).status_code == 200
        careful = whatsapp_form("careful", sender=PHONE)  # discreet mode, for the console
        assert post_signed(client, f"{served.url}/twilio/whatsapp", careful).status_code == 200

    sid = "CA" + secrets.token_hex(16)
    call(served, sid, "/twilio/voice")
    call(served, sid, "/twilio/voice/input", Digits="2")  # Hindi
    call(served, sid, "/twilio/voice/input", Digits="3")  # talk to a counsellor

    page.goto(f"{served.url}/console")
    page.get_by_label("Username").fill("meera")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    rows = page.locator("table.cases tbody tr")
    expect(rows).to_have_count(1)  # one person, one case
    rows.first.get_by_role("link").click()

    linked = page.locator("section.linked")
    expect(linked).to_contain_text("WhatsApp")
    expect(linked).to_contain_text(WHATSAPP_TEXT)
    safety = page.locator("#person-safety")
    expect(safety).to_contain_text("Discreet mode")
    page.screenshot(path=SCREENSHOTS / "console-one-case.png", full_page=True)

    page.get_by_role("button", name="Mark number abusive").click()
    expect(safety).to_contain_text("Marked abusive")
    # only a supervisor may undo it
    expect(page.get_by_role("button", name="Undo the abusive mark")).to_have_count(0)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.on("dialog", lambda dialog: dialog.accept())
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    page.close()
    assert not problems, problems
