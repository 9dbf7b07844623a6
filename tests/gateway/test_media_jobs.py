"""Media slower than the webhook's budget: a short line at once, the rest in the background
— in order, once, across a restart, and ending with a counsellor rather than in silence.

Every webhook is signed with twilio's RequestValidator. A slow Twilio is a held media URL
(tests/fake_media.py) released by the test, and waits are polls with generous bounds:
nothing here measures speed (that is `make bench`'s job). Each test runs on SQLite and
on PostgreSQL, whose locking differs where claims race.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from bot.cli import main as sahay
from bot.core.config import Settings, get_settings
from bot.core.deps import get_rasa
from bot.handoff.queue import aware
from bot.main import create_app
from bot.responses import get_catalogue
from bot.routing import media_jobs
from bot.routing.media_jobs import MediaJobReport, MediaJobRunner, inline_budget, run_media_jobs
from bot.routing.retry import retry_pending
from bot.storage.crypto import decrypt, encrypt
from bot.storage.db import session_scope
from bot.storage.models import Contact, Handoff, MediaItem, MediaJob, Message, utcnow
from tests.conftest import make_settings, post_signed, whatsapp_form
from tests.fake_media import ACCOUNT_SID, ASR_KEY, FakeMedia, fake_media, ogg_opus
from tests.fake_twilio import FakeTwilio, fake_twilio
from tests.gateway.conftest import RecordingRasa
from tests.storage.conftest import database_url  # noqa: F401 - SQLite and PostgreSQL

URL = "http://testserver/twilio/whatsapp"
HINDI = "मेरा राशन कार्ड काम नहीं कर रहा"  # sets the conversation's language to Hindi
WAGES = "मेरी मज़दूरी नहीं मिली"
WISH_TO_DIE = "मैं अपनी जान देना चाहता हूँ"  # "I want to give up my life"
ANSWER = "Namaste from Sahay"  # what the stand-in for Rasa says to everything

T = TypeVar("T")


@dataclass
class MediaGateway:
    client: TestClient
    settings: Settings
    rasa: RecordingRasa
    runner: MediaJobRunner


@contextmanager
def gateway_on(settings: Settings, rasa: RecordingRasa) -> Iterator[MediaGateway]:
    app = create_app(settings)
    app.dependency_overrides[get_rasa] = lambda: rasa
    with TestClient(app, base_url="http://testserver") as client:
        runner: MediaJobRunner = app.state.media_jobs
        runner.rasa = rasa  # the background's Rasa, like the webhooks'
        yield MediaGateway(client=client, settings=settings, rasa=rasa, runner=runner)


@pytest.fixture
def media() -> Iterator[FakeMedia]:
    with fake_media() as served:
        yield served


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with fake_twilio() as running:
        yield running


@pytest.fixture
def settings(
    tmp_path: Path,
    media: FakeMedia,
    twilio: FakeTwilio,
    database_url: str,  # noqa: F811 - the fixture imported above
) -> Settings:
    return make_settings(
        tmp_path,
        DATABASE_URL=database_url,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
        TWILIO_API_BASE_URL=twilio.url,
        SAHAY_ASR="google",
        SAHAY_ASR_URL=media.url,
        SAHAY_ASR_API_KEY=ASR_KEY,
        SAHAY_MEDIA_INLINE_SECONDS="0.2",
        # The tests sweep themselves; the loops wait longer than any test runs.
        SAHAY_MEDIA_SWEEP_SECONDS="60",
        SAHAY_REDRIVE_SECONDS="3600",
    )


@pytest.fixture
def gateway(settings: Settings) -> Iterator[MediaGateway]:
    with gateway_on(settings, RecordingRasa()) as running:
        yield running


def eventually(check: Callable[[], T], what: str, within: float = 60.0) -> T:
    """Poll until `check` gives something true; fail after a generous while."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.05)


def said(name: str, language: str = "hi") -> str:
    return get_catalogue().render(name, language)


def send(gateway: MediaGateway, form: dict[str, str]) -> list[str]:
    response = post_signed(gateway.client, URL, form)
    assert response.status_code == 200, response.text
    return [m.findtext("Body") or "" for m in ElementTree.fromstring(response.text)]


def start_in_hindi(gateway: MediaGateway, sender: str) -> None:
    assert send(gateway, whatsapp_form(HINDI, sender=sender)) == [ANSWER]


def media_url(media: FakeMedia, name: str) -> str:
    return f"{media.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/{name}"


def voice_form(sender: str, media: FakeMedia, name: str, words: str | None) -> dict[str, str]:
    """A voice note (served at `name`, unless `words` is None) whose words are `words`."""
    audio = ogg_opus(name.encode())
    if words is not None:
        media.transcripts[audio] = (words, 0.93, "hi-in")
        media.add(name, "audio/ogg", audio)
    return attachment_form(sender, media_url(media, name), "audio/ogg", "audio")


def attachment_form(sender: str, url: str, content_type: str, kind: str) -> dict[str, str]:
    form = whatsapp_form(
        "", sender=sender, NumMedia="1", MediaUrl0=url, MediaContentType0=content_type
    )
    del form["Body"]
    return {**form, "MessageType": kind}


def sent_to(twilio: FakeTwilio, sender: str) -> list[str]:
    """What the helpline sent the person through Twilio's REST API (not as a TwiML answer)."""
    return [r["Body"] for r in twilio.requests if r.get("To") == f"whatsapp:{sender}"]


def statuses(settings: Settings) -> list[str | None]:
    with session_scope(settings.database_url) as session:
        return list(
            session.scalars(
                select(Message.delivery_status)
                .where(Message.direction == "in", Message.author == "person")
                .order_by(Message.id)
            )
        )


def count(settings: Settings, model: type[MediaItem] | type[MediaJob]) -> int:
    with session_scope(settings.database_url) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def handoffs(settings: Settings) -> list[tuple[str, str]]:
    with session_scope(settings.database_url) as session:
        return [(h.reason, h.priority) for h in session.scalars(select(Handoff))]


def sweep_twice_at_once(
    settings: Settings, rasa: RecordingRasa, now: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> dict[str, int]:
    """Two gateways' sweeps at the same moment, both finding the job due before either
    claims it; what became of the jobs they took, added up."""
    start = threading.Barrier(2)
    both_read = threading.Barrier(2, timeout=30)
    reports: list[MediaJobReport] = []

    def read_by_both(moment: dt.datetime) -> dt.datetime:
        both_read.wait()  # each sweep has read the job as due; now both try to claim it
        return aware(moment)

    monkeypatch.setattr(media_jobs, "aware", read_by_both)

    def sweep() -> None:
        start.wait()
        reports.append(
            run_media_jobs(settings=settings, rasa=rasa, catalogue=get_catalogue(), now=now)
        )

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    monkeypatch.undo()
    assert not [e for report in reports for e in report.errors]
    outcomes: dict[str, int] = {}
    for report in reports:
        for outcome, times in report.outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + times
    return outcomes


# --- a slow voice note ---------------------------------------------------------------------


def test_a_voice_note_slower_than_the_budget_gets_a_line_at_once_then_its_answer(
    gateway: MediaGateway, media: FakeMedia, twilio: FakeTwilio
) -> None:
    sender = "+919800080001"
    start_in_hindi(gateway, sender)
    media.hold("slow.ogg")
    form = voice_form(sender, media, "slow.ogg", WAGES)

    assert send(gateway, form) == [said("utter_voice_listening")]
    assert statuses(gateway.settings) == ["answered", "retrying"]  # held in its place
    assert count(gateway.settings, MediaJob) == 1

    media.release()
    assert eventually(lambda: sent_to(twilio, sender), "the words answered") == [ANSWER]
    eventually(lambda: statuses(gateway.settings)[-1] == "answered_late", "the hold released")
    assert gateway.rasa.turns[-1]["text"] == WAGES
    assert gateway.rasa.turns[-1]["metadata"]["sahay_ref"] == form["MessageSid"]
    assert count(gateway.settings, MediaItem) == 1
    assert count(gateway.settings, MediaJob) == 0
    with session_scope(gateway.settings.database_url) as session:
        voice = session.scalars(select(Message).where(Message.twilio_sid == form["MessageSid"]))
        body = voice.one().body_encrypted
    assert decrypt(body, key=gateway.settings.encryption_key) == WAGES


def test_a_text_sent_while_the_voice_note_is_heard_waits_behind_it(
    gateway: MediaGateway, media: FakeMedia, twilio: FakeTwilio
) -> None:
    sender = "+919800080002"
    start_in_hindi(gateway, sender)
    media.hold("first.ogg")
    assert send(gateway, voice_form(sender, media, "first.ogg", WAGES)) == [
        said("utter_voice_listening")
    ]
    later = "मुझे राशन भी चाहिए"
    assert send(gateway, whatsapp_form(later, sender=sender)) == []  # queued, not answered
    assert statuses(gateway.settings) == ["answered", "retrying", "pending_rasa"]
    assert later not in [turn["text"] for turn in gateway.rasa.turns]

    media.release()
    eventually(lambda: statuses(gateway.settings)[1] == "answered_late", "the words answered")

    def text_answered() -> bool:
        # As if the last attempts were long ago: the retry the job nudged used the app's
        # own Rasa client, which nothing answers here.
        with session_scope(gateway.settings.database_url) as session:
            session.execute(
                update(Message)
                .where(Message.delivery_status == "pending_rasa")
                .values(claimed_at=utcnow() - dt.timedelta(hours=1))
            )
        retry_pending(settings=gateway.settings, rasa=gateway.rasa)
        return statuses(gateway.settings)[-1] == "answered_late"

    eventually(text_answered, "the text answered by the retries")
    texts = [turn["text"] for turn in gateway.rasa.turns]
    assert texts.index(WAGES) < texts.index(later)
    assert sent_to(twilio, sender) == [ANSWER, ANSWER]


def test_a_wish_to_die_heard_late_gets_the_crisis_reply_and_an_urgent_handoff(
    gateway: MediaGateway, media: FakeMedia, twilio: FakeTwilio
) -> None:
    typed = send(gateway, whatsapp_form(WISH_TO_DIE, sender="+919800080003"))
    sender = "+919800080004"
    start_in_hindi(gateway, sender)
    media.hold("crisis.ogg")
    assert send(gateway, voice_form(sender, media, "crisis.ogg", WISH_TO_DIE)) == [
        said("utter_voice_listening")
    ]

    media.release()
    spoken = eventually(lambda: sent_to(twilio, sender), "the crisis reply")
    assert spoken == typed  # exactly what the typed words get
    assert "14416" in spoken[0]
    assert handoffs(gateway.settings) == [("crisis:suicide", "urgent")] * 2
    assert WISH_TO_DIE not in [turn["text"] for turn in gateway.rasa.turns]  # no waiting on Rasa
    assert len(gateway.rasa.paused) == 2


def test_a_late_answer_keeps_discreet_mode(
    gateway: MediaGateway, media: FakeMedia, twilio: FakeTwilio
) -> None:
    sender = "+919800080005"
    start_in_hindi(gateway, sender)
    with session_scope(gateway.settings.database_url) as session:
        session.execute(update(Contact).values(discreet=True))
    prefix = said("utter_discreet_prefix")
    media.hold("quiet.ogg")
    [line] = send(gateway, voice_form(sender, media, "quiet.ogg", WAGES))
    assert line == f"{prefix}\n{said('utter_voice_listening')}"
    media.release()
    assert eventually(lambda: sent_to(twilio, sender), "the answer") == [f"{prefix}\n{ANSWER}"]


def test_a_slow_photo_is_acknowledged_at_once_and_kept_when_it_comes(
    gateway: MediaGateway, media: FakeMedia, twilio: FakeTwilio
) -> None:
    sender = "+919800080006"
    start_in_hindi(gateway, sender)
    url = media.add("contract.jpg", "image/jpeg", b"\xff\xd8 a contract")
    media.hold("contract.jpg")
    [reply] = send(gateway, attachment_form(sender, url, "image/jpeg", "image"))
    assert reply == said("utter_media_received")
    assert statuses(gateway.settings) == ["answered", "answered"]  # nothing waits for a photo

    media.release()
    eventually(lambda: count(gateway.settings, MediaItem) == 1, "the photo kept")
    eventually(lambda: count(gateway.settings, MediaJob) == 0, "the job done")
    assert sent_to(twilio, sender) == []  # it was acknowledged already


@pytest.mark.parametrize("words", [WAGES, WISH_TO_DIE])
def test_words_heard_after_a_quick_exit_reach_nobody_but_stay_on_the_record(
    gateway: MediaGateway, media: FakeMedia, twilio: FakeTwilio, words: str
) -> None:
    sender = "+919800080012"
    start_in_hindi(gateway, sender)
    media.hold("before-exit.ogg")
    form = voice_form(sender, media, "before-exit.ogg", words)
    send(gateway, form)
    assert send(gateway, whatsapp_form("exit", sender=sender)) == [said("utter_exit_neutral")]

    media.release()
    eventually(lambda: count(gateway.settings, MediaJob) == 0, "the job done")
    assert sent_to(twilio, sender) == []
    assert handoffs(gateway.settings) == []
    assert words not in [turn["text"] for turn in gateway.rasa.turns]
    with session_scope(gateway.settings.database_url) as session:
        voice = session.scalars(select(Message).where(Message.twilio_sid == form["MessageSid"]))
        note = voice.one()
        assert decrypt(note.body_encrypted, key=gateway.settings.encryption_key) == words
        assert note.crisis_category == ("suicide" if words == WISH_TO_DIE else None)
        assert note.delivery_status == "answered_late"


# --- durable, and once --------------------------------------------------------------------


def test_a_job_left_by_a_stopped_gateway_is_finished_by_the_next_one(
    settings: Settings, media: FakeMedia, twilio: FakeTwilio
) -> None:
    rasa = RecordingRasa()
    sender = "+919800080007"
    media.hold("restart.ogg")
    with gateway_on(settings, rasa) as first:
        start_in_hindi(first, sender)
        assert send(first, voice_form(sender, media, "restart.ogg", WAGES)) == [
            said("utter_voice_listening")
        ]
    # Stopped mid-fetch: the job stays in the database, given back; the note still held.
    with session_scope(settings.database_url) as session:
        job = session.scalars(select(MediaJob)).one()
        assert (job.state, job.claimed_by) == ("waiting", None)
    assert statuses(settings)[-1] == "retrying"

    with gateway_on(settings, rasa) as second:
        second.runner.sweep_now()
        assert eventually(lambda: sent_to(twilio, sender), "the words answered") == [ANSWER]
        eventually(lambda: statuses(settings)[-1] == "answered_late", "the hold released")

    media.release()  # the stopped gateway's fetch ends now; what it got is dropped
    first.runner.join()
    assert sent_to(twilio, sender) == [ANSWER]
    assert [turn["text"] for turn in rasa.turns].count(WAGES) == 1
    assert count(settings, MediaItem) == 1
    assert count(settings, MediaJob) == 0


def test_a_job_whose_gateway_died_is_taken_over_once_by_two_sweeps_at_once(
    gateway: MediaGateway, media: FakeMedia, twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = "+919800080008"
    start_in_hindi(gateway, sender)
    media.hold("crash.ogg")
    send(gateway, voice_form(sender, media, "crash.ogg", WAGES))

    # Later than the claim of the gateway that took the job lasts without being refreshed.
    later = utcnow() + dt.timedelta(hours=1)
    assert sweep_twice_at_once(gateway.settings, gateway.rasa, later, monkeypatch) == {
        "answered": 1  # and no sweep that claimed it too, only to find it taken
    }
    assert len([f for f in media.fetches if f["path"].endswith("crash.ogg")]) == 2
    assert sent_to(twilio, sender) == [ANSWER]
    assert statuses(gateway.settings)[-1] == "answered_late"

    media.release()  # the "dead" gateway's fetch comes back after all: it has lost the job
    eventually(lambda: gateway.runner.busy() == 0, "the old attempt over")
    assert sent_to(twilio, sender) == [ANSWER]
    assert [turn["text"] for turn in gateway.rasa.turns].count(WAGES) == 1
    assert count(gateway.settings, MediaItem) == 1
    assert count(gateway.settings, MediaJob) == 0


@pytest.mark.parametrize("words", [WAGES, WISH_TO_DIE])
def test_words_a_dead_gateway_was_answering_are_answered_not_lost(
    gateway: MediaGateway, media: FakeMedia, twilio: FakeTwilio, words: str
) -> None:
    sender = "+919800080011"
    start_in_hindi(gateway, sender)
    media.hold("answering.ogg")
    form = voice_form(sender, media, "answering.ogg", words)
    send(gateway, form)
    # As a gateway leaves it when it dies after hearing the words, while answering them.
    with session_scope(gateway.settings.database_url) as session:
        voice = session.scalars(select(Message).where(Message.twilio_sid == form["MessageSid"]))
        voice.one().body_encrypted = encrypt(words, key=gateway.settings.encryption_key)
        session.execute(update(MediaJob).values(state="routing", items=[]))

    later = utcnow() + dt.timedelta(hours=1)
    report = run_media_jobs(
        settings=gateway.settings, rasa=gateway.rasa, catalogue=get_catalogue(), now=later
    )
    if words == WISH_TO_DIE:
        # Answered again from the start: the crisis reply (twice at worst, never not at all).
        assert report.outcomes == {"answered": 1}
        assert "14416" in sent_to(twilio, sender)[0]
        assert ("crisis:suicide", "urgent") in handoffs(gateway.settings)
    else:
        # Left to the retries, which ask Rasa whether it saw the words before sending them.
        assert report.outcomes == {"requeued": 1}
        assert statuses(gateway.settings)[-1] == "pending_rasa"
        with session_scope(gateway.settings.database_url) as session:  # past the grace
            session.execute(update(Message).values(claimed_at=utcnow() - dt.timedelta(hours=1)))
        retry_pending(settings=gateway.settings, rasa=gateway.rasa)
        assert sent_to(twilio, sender) == [ANSWER]
        assert gateway.rasa.turns[-1]["text"] == words
    assert count(gateway.settings, MediaJob) == 0
    media.release()
    eventually(lambda: gateway.runner.busy() == 0, "the old attempt over")
    assert count(gateway.settings, MediaItem) == 0  # the dead gateway's attempt is dropped


# --- never silence ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "failure", "first_reply"),
    [
        ("audio", "404", "utter_voice_listening"),
        ("image", "timeout", "utter_media_received"),
    ],
)
def test_media_that_never_comes_ends_with_a_counsellor_and_a_kind_reply(
    settings: Settings,
    media: FakeMedia,
    twilio: FakeTwilio,
    kind: str,
    failure: str,
    first_reply: str,
) -> None:
    settings.media_fetch_timeout_seconds = 0.5
    name = f"never.{kind}"
    if failure == "timeout":
        media.add(name, "image/jpeg", b"\xff\xd8")
        media.hold(name, times=100)  # never answered while the test runs
    content_type = "audio/ogg" if kind == "audio" else "image/jpeg"
    sender = "+919800080009"
    with gateway_on(settings, RecordingRasa()) as gateway:
        start_in_hindi(gateway, sender)
        form = attachment_form(sender, media_url(media, name), content_type, kind)
        assert send(gateway, form) == [said(first_reply)]
        eventually(lambda: gateway.runner.busy() == 0, "the webhook's attempt over")

        for hours in range(1, 10):
            report = run_media_jobs(
                settings=settings,
                rasa=gateway.rasa,
                catalogue=get_catalogue(),
                now=utcnow() + dt.timedelta(hours=hours),
            )
            if report.outcomes.get("handed_over"):
                break

    assert sent_to(twilio, sender) == [said("utter_media_unavailable")]
    assert handoffs(settings) == [("media_unavailable", "normal")]
    assert count(settings, MediaJob) == 0
    tried = [f for f in media.fetches if f["path"].endswith(name)]
    assert len(tried) == settings.media_fetch_attempts
    assert statuses(settings)[-1] == ("handed_over" if kind == "audio" else "answered")


# --- media retention -------------------------------------------------------------------


def test_media_past_its_retention_goes_in_the_gateways_sweep_and_from_the_command_line(
    settings: Settings,
    media: FakeMedia,
    monkeypatch: pytest.MonkeyPatch,
    clean_env: None,
) -> None:
    sender = "+919800080010"
    with gateway_on(settings, RecordingRasa()) as gateway:
        start_in_hindi(gateway, sender)
        for name in ("a.jpg", "b.jpg"):
            url = media.add(name, "image/jpeg", b"\xff\xd8")
            send(gateway, attachment_form(sender, url, "image/jpeg", "image"))
    assert count(settings, MediaItem) == 2

    def expire(item_id: int) -> None:
        with session_scope(settings.database_url) as session:
            session.execute(
                update(MediaItem)
                .where(MediaItem.id == item_id)
                .values(expires_at=utcnow() - dt.timedelta(minutes=1))
            )

    expire(1)
    with gateway_on(settings, RecordingRasa()):
        assert count(settings, MediaItem) == 1  # the sweep at start purged it
    expire(2)
    for name, value in (
        ("DATABASE_URL", settings.database_url),
        ("SAHAY_PHONE_HASH_KEY", settings.phone_hash_key),
        ("SAHAY_ENCRYPTION_KEY", settings.encryption_key),
        ("RASA_TOKEN", settings.rasa_token),
    ):
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    assert sahay(["media", "purge"]) == 0
    assert count(settings, MediaItem) == 0


# --- the budget ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inline", "rasa_timeout", "budget"),
    [("6", "10", 3.0), ("6", "5", 6.0), ("6", "14", 0.0), ("1.5", "10", 1.5)],
)
def test_the_budget_leaves_rasa_its_time_within_twilios_fifteen_seconds(
    tmp_path: Path, inline: str, rasa_timeout: str, budget: float
) -> None:
    settings = make_settings(
        tmp_path, SAHAY_MEDIA_INLINE_SECONDS=inline, RASA_TIMEOUT_SECONDS=rasa_timeout
    )
    assert inline_budget(settings) == budget
