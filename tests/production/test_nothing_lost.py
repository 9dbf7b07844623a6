"""Nothing lost, nothing twice: Rasa down or slow, the database down, Twilio's retries."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from bot.core.config import Settings
from bot.core.deps import get_rasa
from bot.handoff.service import open_handoff
from bot.main import create_app
from bot.rasa_client import BotReply, RasaBusy, RasaUnavailable
from bot.responses import get_catalogue
from bot.routing import spool
from bot.routing.retry import retry_pending
from bot.routing.service import InboundMessage, handle_inbound
from bot.storage.crypto import decrypt
from bot.storage.db import migrate, session_scope
from bot.storage.models import Conversation, Message, utcnow
from tests.conftest import free_port, make_settings, post_signed, whatsapp_form
from tests.fake_twilio import FakeTwilio, fake_twilio
from tests.gateway.conftest import RecordingRasa
from tests.production.conftest import PrivatePostgres

URL = "http://testserver/twilio/whatsapp"
PERSON = "whatsapp:+919800000012"
HINDI = "मुझे राशन कार्ड के बारे में जानकारी चाहिए"


class SlowRasa(RecordingRasa):
    """Processes the turn, but answers after the gateway's deadline."""

    slow: bool = True

    def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        replies = super().send(sender=sender, text=text, metadata=metadata)
        if self.slow:
            raise RasaUnavailable("read timeout")
        return replies


def bodies(twiml: str) -> list[str]:
    return [m.findtext("Body") or "" for m in ElementTree.fromstring(twiml).findall("Message")]


def statuses(settings: Settings) -> list[str | None]:
    with session_scope(settings.database_url) as session:
        return list(
            session.scalars(
                select(Message.delivery_status)
                .where(Message.direction == "in")
                .order_by(Message.id)
            )
        )


def age_attempts(settings: Settings, seconds: float = 3600) -> None:
    """As if the last attempts were long ago (past the grace a slow turn gets)."""
    with session_scope(settings.database_url) as session:
        session.execute(
            update(Message)
            .where(Message.claimed_at.is_not(None))
            .values(claimed_at=utcnow() - dt.timedelta(seconds=seconds))
        )


def _settings(tmp_path: Path, twilio: FakeTwilio, **extra: str) -> Settings:
    return make_settings(
        tmp_path,
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
        TWILIO_API_BASE_URL=twilio.url,
        SAHAY_REDRIVE_SECONDS="3600",  # the tests run the retries themselves
        SAHAY_SPOOL_DIR=str(tmp_path / "spool"),
        **extra,
    )


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with fake_twilio() as running:
        yield running


@pytest.fixture
def app_for(tmp_path: Path, twilio: FakeTwilio):  # type: ignore[no-untyped-def]
    clients: list[TestClient] = []

    def make(rasa: RecordingRasa, **extra: str) -> tuple[TestClient, Settings]:
        settings = _settings(tmp_path, twilio, **extra)
        app = create_app(settings)
        app.dependency_overrides[get_rasa] = lambda: rasa
        client = TestClient(app, base_url="http://testserver")
        client.__enter__()
        clients.append(client)
        return client, settings

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_rasa_down_fallback_in_language_then_answered_once_when_back(app_for, twilio) -> None:  # type: ignore[no-untyped-def]
    rasa = RecordingRasa(down=True)
    client, settings = app_for(rasa)

    response = post_signed(client, URL, whatsapp_form(HINDI, sender="+919800000011"))
    [fallback] = bodies(response.text)
    assert "14416" in fallback and "माफ़" in fallback  # Hindi, with the helpline number
    assert statuses(settings) == ["pending_rasa"]

    assert retry_pending(settings=settings, rasa=rasa).still_pending == 0  # not yet: grace
    rasa.down = False
    age_attempts(settings)
    report = retry_pending(settings=settings, rasa=rasa)
    assert report.answered == 1
    assert [t["text"] for t in rasa.turns] == [HINDI]
    assert [r["Body"] for r in twilio.requests] == ["Namaste from Sahay"]
    assert twilio.requests[0]["To"] == "whatsapp:+919800000011"
    assert statuses(settings) == ["answered_late"]

    again = retry_pending(settings=settings, rasa=rasa)
    assert again.answered == 0 and len(rasa.turns) == 1 and len(twilio.requests) == 1


def test_a_turn_rasa_finished_after_the_deadline_is_not_sent_twice(app_for, twilio) -> None:  # type: ignore[no-untyped-def]
    rasa = SlowRasa()
    client, settings = app_for(rasa)
    post_signed(client, URL, whatsapp_form("I need help with my ration card"))
    assert statuses(settings) == ["pending_rasa"]

    rasa.slow = False
    age_attempts(settings)
    assert retry_pending(settings=settings, rasa=rasa).answered == 1
    assert len(rasa.turns) == 1  # found in the tracker, not sent again
    assert [r["Body"] for r in twilio.requests] == ["Namaste from Sahay"]


class StillRunningRasa(SlowRasa):
    """The turn outlives the deadline and is still running when the retry comes: not in
    the tracker yet, and the engine's channel refuses the message (bot.engine.channel)."""

    running: bool = True
    finish_on_send: bool = False

    def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        if self.turns and metadata.get("sahay_ref") == self.turns[-1]["metadata"]["sahay_ref"]:
            self.running = self.running and not self.finish_on_send
            raise RasaBusy(processed=not self.running)
        return super().send(sender=sender, text=text, metadata=metadata)

    def replies_to(self, *, sender: str, ref: str) -> list[BotReply] | None:
        return None if self.running else super().replies_to(sender=sender, ref=ref)


def test_a_turn_still_running_at_the_retry_is_left_for_later_not_sent_twice(
    app_for, twilio
) -> None:  # type: ignore[no-untyped-def]
    rasa = StillRunningRasa()
    client, settings = app_for(rasa)
    post_signed(client, URL, whatsapp_form("I need help with my ration card"))
    assert statuses(settings) == ["pending_rasa"]

    age_attempts(settings)  # the grace is over, but the turn still runs (a slow action)
    report = retry_pending(settings=settings, rasa=rasa)
    assert report.answered == 0 and report.still_pending == 1
    assert statuses(settings) == ["pending_rasa"] and twilio.requests == []

    # The turn ends between the retry's look at the tracker and its send: the engine
    # says "processed", and the replies are read from the tracker.
    rasa.finish_on_send = True
    age_attempts(settings)
    assert retry_pending(settings=settings, rasa=rasa).answered == 1
    assert len(rasa.turns) == 1
    assert [r["Body"] for r in twilio.requests] == ["Namaste from Sahay"]
    assert statuses(settings) == ["answered_late"]


def test_later_messages_wait_behind_earlier_ones_in_order(app_for, twilio) -> None:  # type: ignore[no-untyped-def]
    rasa = RecordingRasa(down=True)
    client, settings = app_for(rasa)
    post_signed(client, URL, whatsapp_form("first: I need help with my ration card"))
    rasa.down = False  # Rasa is back before the retry ran
    second = post_signed(client, URL, whatsapp_form("second: and my wages"))
    assert bodies(second.text) == []  # queued behind the first, not answered out of order
    assert statuses(settings) == ["pending_rasa", "pending_rasa"]

    age_attempts(settings)
    assert retry_pending(settings=settings, rasa=rasa).answered == 2
    assert [t["text"] for t in rasa.turns] == [
        "first: I need help with my ration card",
        "second: and my wages",
    ]
    assert statuses(settings) == ["answered_late", "answered_late"]


def test_a_message_pending_too_long_goes_to_a_counsellor(app_for) -> None:  # type: ignore[no-untyped-def]
    rasa = RecordingRasa(down=True)
    client, settings = app_for(rasa)
    post_signed(client, URL, whatsapp_form("I need help with my ration card"))
    with session_scope(settings.database_url) as session:
        session.execute(update(Message).values(created_at=utcnow() - dt.timedelta(hours=1)))

    report = retry_pending(settings=settings, rasa=rasa)
    assert report.handed_over == 1
    with session_scope(settings.database_url) as session:
        conversation = session.scalars(select(Conversation)).one()
        handoff = open_handoff(session=session, conversation_id=conversation.id)
        assert handoff is not None and handoff.reason == "bot_unavailable"
        assert conversation.state == "queued"
    assert statuses(settings) == ["handed_over"]


def test_a_turn_that_never_concluded_is_picked_up(app_for, twilio) -> None:  # type: ignore[no-untyped-def]
    """The replica died between storing the message and storing the answer."""
    rasa = RecordingRasa()
    client, settings = app_for(rasa)
    post_signed(client, URL, whatsapp_form("I need help with my ration card"))
    with session_scope(settings.database_url) as session:
        session.execute(
            update(Message)
            .where(Message.direction == "in")
            .values(delivery_status="received", created_at=utcnow() - dt.timedelta(minutes=5))
        )
    report = retry_pending(settings=settings, rasa=rasa)
    assert report.requeued == 1 and report.answered == 1
    assert len(rasa.turns) == 1  # Rasa had answered: delivered from its tracker
    assert [r["Body"] for r in twilio.requests] == ["Namaste from Sahay"]


def test_database_down_crisis_reply_still_sent_and_message_spooled(tmp_path: Path, twilio) -> None:  # type: ignore[no-untyped-def]
    down = _settings(
        tmp_path,
        twilio,
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none",
    )
    rasa = RecordingRasa()
    catalogue = get_catalogue()
    crisis = handle_inbound(
        settings=down,
        rasa=rasa,
        catalogue=catalogue,
        inbound=InboundMessage(
            "whatsapp", "whatsapp:+919800000012", "I want to kill myself", "SMc1"
        ),
    )
    ordinary = handle_inbound(
        settings=down,
        rasa=rasa,
        catalogue=catalogue,
        inbound=InboundMessage("whatsapp", PERSON, HINDI, "SMo1"),
    )
    assert "14416" in crisis.replies[0].text
    assert "माफ़" in ordinary.replies[0].text
    assert rasa.turns == []
    files = spool.pending_files(down)
    assert len(files) == 2
    assert all(b"kill" not in path.read_bytes() for path in files)  # encrypted on disk

    # The database is back (here: another address with the same keys).
    up = down.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'back.db'}"})
    migrate(up.database_url)
    assert spool.replay(settings=up) == 2
    assert spool.pending_files(up) == []
    with session_scope(up.database_url) as session:
        rows = session.scalars(select(Message).order_by(Message.id)).all()
        assert [decrypt(m.body_encrypted, key=up.encryption_key) for m in rows] == [
            "I want to kill myself",
            HINDI,
        ]
        assert [m.delivery_status for m in rows] == ["answered", "pending_rasa"]
        conversation = session.scalars(select(Conversation)).one()
        handoff = open_handoff(session=session, conversation_id=conversation.id)
        assert handoff is not None and handoff.priority == "urgent"
    assert spool.replay(settings=up) == 0


def test_replaying_twice_stores_once(tmp_path: Path, twilio) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(tmp_path, twilio)
    migrate(settings.database_url)
    message = spool.SpooledMessage(
        channel="whatsapp",
        address="whatsapp:+919800000013",
        text="hello",
        message_sid="SMdup",
        media_urls=(),
        crisis=False,
        language="en",
    )
    spool.write(settings=settings, message=message)
    spool.write(settings=settings, message=message)  # Twilio's retry, spooled again
    assert spool.replay(settings=settings) == 1
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count(Message.id))) == 1


def test_the_same_message_sid_on_two_replicas_at_once_is_answered_once(
    tmp_path: Path, twilio: FakeTwilio, private_postgres: PrivatePostgres
) -> None:
    database_url = private_postgres.create_database(f"dedup_{secrets.token_hex(4)}")
    rasa = RecordingRasa()
    settings = _settings(tmp_path, twilio, DATABASE_URL=database_url)
    replicas = []
    for _ in range(2):
        app = create_app(settings)
        app.dependency_overrides[get_rasa] = lambda: rasa
        replicas.append(TestClient(app, base_url="http://testserver").__enter__())
    try:
        forms = [
            whatsapp_form(f"I need help with my ration card {i}", sender=f"+91980000{i:04d}")
            for i in range(10)
        ]
        answers: list[list[str]] = [[] for _ in forms]
        barrier = threading.Barrier(4)

        def deliver(replica: TestClient, copy: int) -> None:
            barrier.wait()
            for index, form in enumerate(forms):
                response = post_signed(replica, URL, form)
                assert response.status_code == 200
                answers[index] += bodies(response.text)

        threads = [threading.Thread(target=deliver, args=(replicas[n % 2], n)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for replica in replicas:
            replica.__exit__(None, None, None)

    assert [len(a) for a in answers] == [1] * 10  # each answered exactly once over 4 deliveries
    assert len(rasa.turns) == 10
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count(Message.id)).where(Message.direction == "in")) == 10
        assert session.scalar(select(func.count(Conversation.id))) == 10


class ExitDuringTurnRasa(RecordingRasa):
    """While the retried turn runs, the person sends the exit word (their conversation is
    closed for safety): the answer must not reach them."""

    settings: Settings | None = None

    def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        replies = super().send(sender=sender, text=text, metadata=metadata)
        assert self.settings is not None
        with session_scope(self.settings.database_url) as session:
            session.execute(
                update(Conversation).values(state="closed", closed_reason="exited_for_safety")
            )
        return replies


def test_a_late_answer_is_withheld_when_the_person_left_for_safety_meanwhile(
    app_for, twilio
) -> None:  # type: ignore[no-untyped-def]
    rasa = ExitDuringTurnRasa(down=True)
    client, settings = app_for(rasa)
    rasa.settings = settings
    post_signed(client, URL, whatsapp_form("I need help with my ration card"))
    rasa.down = False
    age_attempts(settings)
    report = retry_pending(settings=settings, rasa=rasa)
    assert report.errors == []
    assert twilio.requests == []  # nothing reaches a phone that may be watched
    assert statuses(settings) == ["withheld"]
