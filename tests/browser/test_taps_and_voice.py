"""Tap-to-answer in the simulator and a voice note played in the console, in Chromium,
against the real helpline (Rasa, action server and gateway as processes)."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_console import add_account, new_phone, sign_in
from tests.browser.test_console import helpline as helpline  # this module's own helpline
from tests.browser.test_console import page as page  # fails on any script error
from tests.browser.test_simulator_page import SCREENSHOTS
from tests.browser.test_simulator_page import browser as browser  # the shared Chromium
from tests.conftest import Helpline

pytestmark = pytest.mark.browser


def spoken_tone(seconds: float = 1.0, rate: int = 16000) -> bytes:
    """A short WAV recording (a 440 Hz tone), as a phone's voice note might be."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(int(seconds * rate))
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as recording:
        recording.setnchannels(1)
        recording.setsampwidth(2)
        recording.setframerate(rate)
        recording.writeframes(frames)
    return buffer.getvalue()


def open_simulator(page: Page, helpline: Helpline, phone: str) -> None:
    page.goto(f"{helpline.url}/simulator")
    page.get_by_label("Test phone number").fill(phone)
    page.get_by_label("Test phone number").dispatch_event("change")


def test_simulator_buttons_work_by_click(helpline: Helpline, page: Page) -> None:
    page.set_viewport_size({"width": 480, "height": 900})
    open_simulator(page, helpline, new_phone())
    page.get_by_label("Message").fill("hi")
    page.get_by_role("button", name="Send").click()

    languages = page.locator(".choices.list-picker").first
    expect(languages.get_by_role("button")).to_have_count(12, timeout=30_000)
    languages.get_by_role("button", name="বাংলা").click()
    expect(page.locator(".msg.user").last).to_have_text("বাংলা")
    expect(page.locator(".msg.bot").nth(1)).to_contain_text("বাংলা", timeout=30_000)
    expect(languages.get_by_role("button").first).to_be_disabled()

    page.get_by_label("Message").fill("menu")
    page.get_by_role("button", name="Send").click()
    help_menu = page.locator(".choices").last
    expect(help_menu.get_by_role("button", name="রেশন কার্ড")).to_be_visible(timeout=30_000)
    help_menu.get_by_role("button", name="রেশন কার্ড").click()
    answer = page.locator(".msg.bot", has_text="14445")  # the ration answer's helpline
    expect(answer).to_have_count(1, timeout=30_000)
    # It ends with the offer of a check: yes/no buttons, labelled in Bengali.
    expect(page.locator(".choices").last.get_by_role("button", name="হ্যাঁ, দেখুন")).to_be_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "simulator-taps.png", full_page=True)


def test_a_counsellor_plays_a_voice_note_in_the_console(
    helpline: Helpline, page: Page, tmp_path: Path
) -> None:
    add_account(helpline, "meera", "counsellor", "bn,hi")
    phone = new_phone()
    page.set_viewport_size({"width": 480, "height": 900})
    open_simulator(page, helpline, phone)
    page.get_by_label("Message").fill("আমার রেশন কার্ড কাজ করছে না")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.bot").first).to_be_visible(timeout=30_000)

    note = tmp_path / "voice-note.wav"
    note.write_bytes(spoken_tone())
    page.get_by_label("Photo, document or voice note").set_input_files(str(note))
    options = page.locator(".choices").last
    expect(options.get_by_role("button")).to_have_count(3, timeout=30_000)
    expect(page.locator(".msg.bot").last).to_contain_text("ভয়েস মেসেজ")
    options.get_by_role("button").nth(2).click()  # talk to a counsellor
    expect(page.locator(".msg.bot").last).to_be_visible(timeout=30_000)
    page.screenshot(path=SCREENSHOTS / "simulator-voice-note.png", full_page=True)

    page.set_viewport_size({"width": 1360, "height": 900})
    sign_in(page, helpline, "meera")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    page.locator("table.cases tbody tr").first.get_by_role("link").first.click()
    player = page.locator("audio.voice-note")
    expect(player).to_have_count(1, timeout=30_000)
    played = page.evaluate(
        """async () => {
            const audio = document.querySelector("audio.voice-note");
            audio.muted = true;
            await audio.play();
            await new Promise((done) => setTimeout(done, 400));
            return {time: audio.currentTime, duration: audio.duration, error: audio.error};
        }"""
    )
    assert played["error"] is None
    assert played["time"] > 0 and 0.9 < played["duration"] < 1.1
    page.screenshot(path=SCREENSHOTS / "console-voice-note.png", full_page=True)


def test_screening_answers_are_tapped_in_the_simulator(helpline: Helpline, page: Page) -> None:
    page.set_viewport_size({"width": 480, "height": 900})
    open_simulator(page, helpline, new_phone())
    page.get_by_label("Message").fill("hi")
    page.get_by_role("button", name="Send").click()
    page.locator(".choices.list-picker").first.get_by_role("button", name="English").click()
    expect(page.locator(".msg.bot").nth(1)).to_contain_text("English", timeout=30_000)

    page.get_by_label("Message").fill("i want to check my mental health")
    page.get_by_role("button", name="Send").click()
    offer = page.locator(".choices").last
    expect(offer.get_by_role("button", name="Yes, let's begin")).to_be_visible(timeout=30_000)
    offer.get_by_role("button", name="Yes, let's begin").click()

    keep = page.locator(".choices").last  # may Sahay keep your answers?
    expect(keep.get_by_role("button", name="Talk to a person")).to_be_visible(timeout=30_000)
    keep.get_by_role("button", name="Yes").click()

    # The first question's list (a later question's list looks the same).
    scale = page.locator(".choices.list-picker", has_text="Not at all").first
    expect(scale.get_by_role("button")).to_have_count(7, timeout=30_000)
    expect(page.locator(".msg.bot").last).to_contain_text("Question 1 of 4")
    scale.get_by_role("button", name="More than half the days").click()
    expect(page.locator(".msg.user").last).to_have_text("More than half the days")
    expect(page.locator(".msg.bot").last).to_contain_text("Question 2 of 4", timeout=30_000)
    expect(scale.get_by_role("button").first).to_be_disabled()
    page.screenshot(path=SCREENSHOTS / "simulator-screening-taps.png", full_page=True)


def test_a_checkin_is_answered_by_a_click_in_the_simulator(helpline: Helpline, page: Page) -> None:
    import datetime as dt
    import sqlite3

    from bot.referrals.followups import run_due_followups
    from bot.referrals.lifecycle import IST

    page.set_viewport_size({"width": 480, "height": 900})
    open_simulator(page, helpline, new_phone())
    page.get_by_label("Message").fill("seth do mahine se paisa nahi de raha, salary nahi mila")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg.bot").first).to_be_visible(timeout=30_000)
    page.get_by_label("Message").fill("main ernakulam mein hoon")
    page.get_by_role("button", name="Send").click()
    offer = page.locator(".choices").last
    expect(offer.get_by_role("button")).to_have_count(2, timeout=30_000)
    offer.get_by_role("button").first.click()  # yes, refer me
    expect(page.locator(".msg.bot", has_text="रेफ़रल पर्ची")).to_have_count(1, timeout=30_000)

    later = dt.datetime.now(IST).replace(hour=10, minute=0) + dt.timedelta(days=4)
    assert run_due_followups(settings=helpline.settings, now=later).sent
    checkin = page.locator(".choices").last
    expect(checkin.get_by_role("button", name="हाँ, पहुँच गया/गई")).to_be_visible(timeout=30_000)
    checkin.get_by_role("button", name="हाँ, पहुँच गया/गई").click()
    expect(page.locator(".msg.bot").last).to_contain_text("धन्यवाद", timeout=30_000)
    page.screenshot(path=SCREENSHOTS / "simulator-checkin-taps.png", full_page=True)
    database = helpline.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        answers = db.execute(
            "SELECT answer FROM referral_followups WHERE status = 'answered'"
        ).fetchall()
    assert ("reached",) in answers
