"""The counsellor console in Debian's Chromium, against the real helpline.

Rasa, the action server and the gateway run as processes (the `helpline` fixture). A
person writes through the simulator; a counsellor, created with the CLI, works the case
in the browser.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.core.config import PROJECT_ROOT
from bot.launcher import service_environment
from bot.storage.crypto import phone_key
from tests.browser.test_simulator_page import SCREENSHOTS
from tests.browser.test_simulator_page import browser as browser  # the shared Chromium
from tests.conftest import Helpline, running_helpline

pytestmark = pytest.mark.browser

PASSWORD = "a long test password"
BENGALI = re.compile(r"[\u0980-\u09FF]")
CRISIS_TEXT = "মরে যেতে ইচ্ছে করছে"


def add_account(helpline: Helpline, username: str, role: str, languages: str) -> None:
    """`python -m bot.cli counsellors add …` against the helpline's own database."""
    env = service_environment(helpline.settings) | {"SAHAY_NEW_PASSWORD": PASSWORD}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "counsellors",
            "add",
            username,
            "--name",
            username.title(),
            "--role",
            role,
            "--languages",
            languages,
        ],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def say(helpline: Helpline, phone: str, text: str) -> list[str]:
    """A person writes through the simulator; the bot's replies."""
    response = httpx.post(
        f"{helpline.url}/simulator/messages", json={"phone": phone, "text": text}, timeout=60
    )
    response.raise_for_status()
    return [reply["text"] for reply in response.json()]


def user_texts_in_rasa(helpline: Helpline, phone: str) -> list[str]:
    """The user messages Rasa's tracker holds for this simulated person."""
    sender = phone_key("sim:" + phone, secret=helpline.settings.phone_hash_key)
    tracker = httpx.get(
        f"{helpline.settings.rasa_url}/conversations/{sender}/tracker",
        params={"token": helpline.settings.rasa_token},
        timeout=30,
    )
    tracker.raise_for_status()
    return [e.get("text") or "" for e in tracker.json().get("events", []) if e["event"] == "user"]


def sign_in(page: Page, helpline: Helpline, username: str) -> None:
    page.goto(f"{helpline.url}/console")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def new_phone() -> str:
    return "+9197" + str(uuid.uuid4().int)[:8]


@pytest.fixture(scope="module")
def helpline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Helpline]:
    """A helpline of this test's own: its queue must hold only the cases it creates."""
    with running_helpline(tmp_path_factory.mktemp("console-helpline")) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())  # "Close this case?"
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"{m.text} at {m.location}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    page.close()
    print("\n".join(problems))
    assert not problems, problems  # no script errors, no Content-Security-Policy violations


def test_a_counsellor_takes_an_urgent_bengali_case_and_hands_it_back(
    helpline: Helpline, page: Page
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    add_account(helpline, "asha", "counsellor", "bn,hi")
    waiting_person, person = new_phone(), new_phone()

    # An older, normal case: someone asks the bot for a human.
    say(helpline, waiting_person, "মানুষের সাথে কথা বলতে চাই")
    # Then a person in crisis, in Bengali: the crisis reply at once, and an urgent case.
    crisis_replies = say(helpline, person, CRISIS_TEXT)
    assert any("14416" in reply for reply in crisis_replies)

    sign_in(page, helpline, "asha")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    rows = page.locator("table.cases tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("urgent")
    expect(rows.nth(0)).to_contain_text("বাংলা (Bengali)")
    expect(rows.nth(0)).to_contain_text("Crisis: thoughts of suicide")
    expect(rows.nth(1)).to_contain_text("normal")
    expect(rows.nth(1)).to_contain_text("Asked to talk to a person")
    page.screenshot(path=SCREENSHOTS / "console-queue.png", full_page=True)

    rows.nth(0).get_by_role("link").click()
    summary = page.locator("section.summary")
    expect(summary).to_contain_text("Crisis: thoughts of suicide")
    expect(summary).to_contain_text("বাংলা (Bengali)")
    expect(summary).to_contain_text("high risk")
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text(CRISIS_TEXT)
    page.screenshot(path=SCREENSHOTS / "console-case.png", full_page=True)

    page.get_by_role("button", name="Claim this case").click()
    expect(page.get_by_role("status").filter(has_text="The case is yours")).to_be_visible()
    reply = "আমি সাহায় থেকে বলছি। আপনি কি এখন নিরাপদ জায়গায় আছেন?"
    page.get_by_label("Your reply to the person").fill(reply)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    expect(transcript.locator(".msg-counsellor")).to_contain_text(reply)

    # The person receives the reply, as WhatsApp would deliver it.
    outbox = httpx.get(f"{helpline.url}/simulator/outbox", params={"phone": person}, timeout=30)
    assert [m["text"] for m in outbox.json()] == [reply]

    # The person's next message appears in the open case without a reload.
    answer = "হ্যাঁ, আমি ঘরে আছি। ঠিকাদার তিন মাসের টাকা দেয়নি।"
    assert say(helpline, person, answer) == []  # the counsellor answers, not the bot
    expect(transcript.locator(".msg-person").last).to_contain_text(answer, timeout=15_000)
    page.screenshot(path=SCREENSHOTS / "console-live.png", full_page=True)

    # Rasa heard nothing of the crisis or of the conversation with the counsellor.
    heard = user_texts_in_rasa(helpline, person)
    assert CRISIS_TEXT not in heard and answer not in heard

    page.get_by_label("Outcome").select_option("supported")
    page.get_by_role("button", name="Close case").click()
    expect(page.get_by_text("Case closed. The bot answers this person again.")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "console-closed.png", full_page=True)

    # The bot is back, and answers in Bengali script.
    bot_replies = say(helpline, person, "রেশন কার্ড দিয়ে অন্য রাজ্যে চাল পাব?")
    assert bot_replies, "the bot did not answer after the case was closed"
    text = " ".join(bot_replies)
    assert len(BENGALI.findall(text)) > len(re.findall(r"[A-Za-z]", text)), text

    # The waiting person's case is still in the queue, now on its own; its summary tells
    # what they asked the bot, read from Rasa's tracker.
    page.goto(f"{helpline.url}/console/queue")
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    page.locator("table.cases tbody tr").get_by_role("link").click()
    expect(page.locator("section.summary .chips")).to_contain_text("request human")


def test_a_supervisor_reads_the_dashboard(helpline: Helpline, page: Page) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    add_account(helpline, "sunita", "supervisor", "hi")
    say(helpline, new_phone(), "मुझे किसी इंसान से बात करनी है")
    sign_in(page, helpline, "sunita")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Conversations by language"))).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "console-dashboard.png", full_page=True)
