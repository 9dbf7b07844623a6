"""A counsellor refers a person from the case page, in Debian's Chromium, against the real
helpline: the form, the service list for the person's district, the slip in Hindi, the
lifecycle control and the history; then a supervisor reads the indicators."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.storage.crypto import phone_key
from tests.browser.test_console import add_account, say, sign_in
from tests.browser.test_simulator_page import SCREENSHOTS
from tests.browser.test_simulator_page import browser as browser  # the shared Chromium
from tests.conftest import Helpline

pytestmark = pytest.mark.browser

DEVANAGARI = re.compile(r"[\u0900-\u097F]")
REASON = "दो महीने की मज़दूरी नहीं मिली"
NOTE = "वह दफ़्तर पहुँचीं, अधिकारी ने शिकायत लिखी"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"{m.text} at {m.location}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    page.close()
    assert not problems, problems  # no script errors, no Content-Security-Policy violations


def case_of(helpline: Helpline, phone: str) -> int:
    """The open case of a person who wrote through the simulator."""
    key = phone_key("sim:" + phone, secret=helpline.settings.phone_hash_key)
    with sqlite3.connect(helpline.settings.database_url.removeprefix("sqlite:///")) as db:
        [(handoff_id, district, state)] = db.execute(
            "SELECT h.id, v.district, v.region_state FROM handoffs h "
            "JOIN conversations v ON h.conversation_id = v.id "
            "JOIN contacts c ON v.contact_id = c.id "
            "WHERE c.phone_key = ? AND h.state = 'queued'",
            (key,),
        ).fetchall()
    assert (district, state) == ("Ernakulam", "Kerala")
    return int(handoff_id)


def test_a_counsellor_refers_a_person_and_marks_the_referral_acknowledged(
    helpline: Helpline, page: Page
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    username = "kavya" + uuid.uuid4().hex[:6]
    add_account(helpline, username, "counsellor", "hi")
    person = "+9196" + str(uuid.uuid4().int)[:8]

    # The person asks the bot about unpaid wages, says where they are, then asks for a human.
    say(helpline, person, "seth do mahine se paisa nahi de raha, salary nahi mila")
    offer = " ".join(say(helpline, person, "main ernakulam mein hoon"))
    assert "Kerala Labour Department" in offer, offer
    say(helpline, person, "मुझे किसी इंसान से बात करनी है")
    case = case_of(helpline, person)

    sign_in(page, helpline, username)
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    page.locator(f'a[href="/console/cases/{case}"]').click()
    expect(page.get_by_role("heading", name=f"Case {case}")).to_be_visible()
    page.get_by_role("button", name="Claim this case").click()
    expect(page.get_by_role("status").filter(has_text="The case is yours")).to_be_visible()

    panel = page.locator("#referrals")
    expect(panel).to_contain_text("No referrals for this person yet.")
    expect(panel).to_contain_text("Services near: Ernakulam, Kerala.")
    page.get_by_label("Type of referral").select_option("wages")
    service = page.get_by_label("Service", exact=True)
    expect(service.locator("option").first).to_contain_text("Migrant workers")
    expect(service).to_contain_text("(national line)")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Reason").fill(REASON)

    # Without the person's agreement, no referral: the form says so and keeps the input.
    page.get_by_role("button", name="Create referral").click()
    expect(panel).to_contain_text("Ask the person first")
    expect(page.get_by_label("Reason")).to_have_value(REASON)
    page.screenshot(path=SCREENSHOTS / "console-referral-consent.png", full_page=True)

    page.get_by_label("The person agreed to this referral").check()
    page.get_by_label("The person agreed to check-ins about it").check()
    page.get_by_role("button", name="Create referral").click()
    expect(panel.get_by_role("status")).to_contain_text("created, and the slip sent")
    referral = panel.locator("article.referral").first
    expect(referral).to_contain_text("Migrant workers")
    expect(referral).to_contain_text(REASON)
    expect(referral.locator(".referral-state")).to_have_text("Sent")
    code = referral.locator(".code").inner_text()
    expect(page.get_by_label("Type of referral")).to_have_value("")  # a fresh form
    assert re.fullmatch(r"SR-[2-9A-Z]{6}", code), code

    # The slip reaches the person in Hindi, and shows in the open transcript.
    transcript = page.locator("#transcript")
    expect(transcript.locator(".msg-counsellor").last).to_contain_text(code, timeout=15_000)
    outbox = httpx.get(f"{helpline.url}/simulator/outbox", params={"phone": person}, timeout=30)
    [slip] = [m["text"] for m in outbox.json() if code in m["text"]]
    assert len(DEVANAGARI.findall(slip)) > 20 and "Perumbavoor" in slip, slip

    referral.get_by_label("Move to").select_option("acknowledged")
    referral.get_by_label("Note (optional)").fill(NOTE)
    referral.get_by_role("button", name="Update referral").click()
    expect(panel.get_by_role("status")).to_contain_text(f"Referral {code} is now acknowledged.")
    referral = panel.locator("article.referral").first
    expect(referral.locator(".referral-state")).to_have_text("Acknowledged")
    history = referral.locator("ol.history li")
    expect(history).to_have_count(3)
    expect(history.nth(0)).to_contain_text("Created")
    expect(history.nth(1)).to_contain_text("Created → Sent")
    expect(history.nth(2)).to_contain_text("Sent → Acknowledged")
    expect(history.nth(2)).to_contain_text(NOTE)
    expect(history.nth(2)).to_contain_text(f"by {username.title()}")
    expect(referral.get_by_label("Move to").locator("option")).to_contain_text(
        ["Choose…", "Completed: the service helped"]
    )
    referral.scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "console-referral.png", full_page=True)

    # A supervisor sees the anonymised indicators, small counts suppressed.
    supervisor = "meena" + uuid.uuid4().hex[:6]
    add_account(helpline, supervisor, "supervisor", "hi")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, helpline, supervisor)
    page.get_by_role("link", name="Indicators").click()
    expect(page.get_by_role("heading", name="Indicators by state and month")).to_be_visible()
    needs = page.locator("table", has=page.locator("caption", has_text="Needs referred"))
    expect(needs.first).to_contain_text("Kerala")
    expect(needs.first).to_contain_text("suppressed")
    page.screenshot(path=SCREENSHOTS / "console-indicators.png", full_page=True)
