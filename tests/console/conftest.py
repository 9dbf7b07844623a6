"""The gateway in-process, with a stand-in Rasa and tracker, and helpers to make cases."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.cli import add_counsellor
from bot.console.config import ConsoleSettings, get_console_settings
from bot.console.deps import tracker_reader
from bot.core.config import Settings
from bot.core.deps import get_rasa
from bot.handoff.service import request_handoff
from bot.handoff.summary import TrackerFacts
from bot.main import create_app
from bot.rasa_client import RasaUnavailable
from bot.storage.crypto import encrypt, phone_key
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, Message, utcnow
from tests.conftest import make_settings
from tests.gateway.conftest import RecordingRasa

PASSWORD = "correct horse battery"


@dataclass
class StandInRasa(RecordingRasa):
    """RecordingRasa that also remembers resumes, and fails them while down."""

    resumed: list[str] = field(default_factory=list)

    def resume(self, *, sender: str) -> None:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.resumed.append(sender)
        super().resume(sender=sender)


@dataclass
class StandInTracker:
    """Answers the case summary's tracker questions with fixed facts."""

    facts: TrackerFacts = field(
        default_factory=lambda: TrackerFacts(status="ok", intents=("ask_ration",), district="Malda")
    )
    asked: list[str] = field(default_factory=list)

    def __call__(self, sender: str, since: dt.datetime) -> TrackerFacts:
        self.asked.append(sender)
        return self.facts


@dataclass
class Console:
    client: TestClient
    settings: Settings
    console_settings: ConsoleSettings
    rasa: StandInRasa
    tracker: StandInTracker

    @property
    def url(self) -> str:
        return self.settings.database_url


def console_settings(**values: object) -> ConsoleSettings:
    defaults: dict[str, object] = {
        "CONSOLE_EVENT_POLL_SECONDS": 0.05,
        "CONSOLE_EVENT_STREAM_SECONDS": 0.6,
        "TWILIO_TEMPLATE_FOLLOWUP_SID": "",
    }
    defaults.update(values)
    return ConsoleSettings(**defaults)  # type: ignore[arg-type]


@contextmanager
def build(
    tmp_path: Path,
    *,
    base_url: str = "http://testserver",
    console: dict[str, object] | None = None,
    **overrides: str,
) -> Iterator[Console]:
    """The gateway with its own database; `console` overrides console settings."""
    settings = make_settings(tmp_path, **overrides)
    rasa = StandInRasa()
    tracker = StandInTracker()
    chosen = console_settings(**(console or {}))
    app = create_app(settings)
    app.dependency_overrides[get_rasa] = lambda: rasa
    app.dependency_overrides[get_console_settings] = lambda: chosen
    app.dependency_overrides[tracker_reader] = lambda: tracker
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        yield Console(client, settings, chosen, rasa, tracker)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    with build(tmp_path) as built:
        yield built


def counsellor(
    console: Console,
    username: str,
    *,
    role: str = "counsellor",
    languages: tuple[str, ...] = ("bn",),
) -> int:
    """Create an account with the shared test password."""
    return add_counsellor(
        database_url=console.url,
        username=username,
        name=username.title(),
        role=role,
        languages=list(languages),
        password=PASSWORD,
    )


def make_case(
    console: Console,
    *,
    phone: str,
    language: str | None = "bn",
    priority: str = "normal",
    reason: str = "request_human",
    channel: str = "simulator",
    text: str = "আমি একজন মানুষের সাথে কথা বলতে চাই",
    crisis: str | None = None,
    age: dt.timedelta = dt.timedelta(0),
    assigned_to: int | None = None,
) -> int:
    """A conversation with one inbound message and a queued handoff `age` old; its id."""
    settings = console.settings
    created = utcnow() - age
    with session_scope(console.url) as session:
        contact = Contact(
            phone_key=phone_key(phone, secret=settings.phone_hash_key),
            phone_encrypted=encrypt(phone, key=settings.encryption_key),
        )
        conversation = Conversation(
            contact=contact, channel=channel, language=language, started_at=created
        )
        session.add(conversation)
        session.flush()
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="in",
                author="person",
                body_encrypted=encrypt(text, key=settings.encryption_key),
                crisis_category=crisis,
                crisis_risk="high" if crisis else None,
                crisis_rule=f"{language}.{crisis}.test" if crisis else None,
                created_at=created,
            )
        )
        handoff = request_handoff(
            session=session,
            conversation=conversation,
            priority=priority,
            reason=reason,
            actor="test",
        )
        handoff.created_at = created
        handoff.assigned_to_id = assigned_to
        session.flush()
        return handoff.id


CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token for later POSTs."""
    form = client.get("/console/sign-in")
    assert form.status_code == 200
    response = client.post(
        "/console/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_from(form.text)},
    )
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/console/queue").text)


def token(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """Authorization header with a bearer token from the API."""
    response = client.post("/api/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
