"""An in-process gateway with a stand-in Rasa, and a caller who walks through calls."""

from __future__ import annotations

import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from bot.core.config import Settings
from bot.core.deps import get_rasa
from bot.main import create_app
from ivr.config import IvrSettings, get_ivr_settings
from ivr.prompts import build
from tests.conftest import make_settings, post_signed
from tests.gateway.conftest import RecordingRasa

BASE = "http://testserver"
COUNSELLORS = "hi=+911100000001,bn=+913300000002,ta=+914400000003"


@pytest.fixture(scope="session")
def prompts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Odia and Assamese prompts, recorded once when espeak-ng is installed (else none)."""
    folder = tmp_path_factory.mktemp("prompts")
    if shutil.which("espeak-ng"):
        build(folder)
    return folder


@dataclass
class Voice:
    client: TestClient
    settings: Settings
    ivr: IvrSettings
    rasa: RecordingRasa

    def query(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.settings.database_url.removeprefix("sqlite:///")) as db:
            return db.execute(sql).fetchall()


def make_voice(
    tmp_path: Path,
    prompts: Path,
    *,
    settings_values: dict[str, str] | None = None,
    base_url: str = BASE,
    **ivr_values: str,
) -> Iterator[Voice]:
    settings = make_settings(tmp_path, **(settings_values or {}))
    values = {"SAHAY_COUNSELLOR_NUMBERS": COUNSELLORS, "SAHAY_IVR_PROMPTS_DIR": str(prompts)}
    values.update(ivr_values)
    ivr = IvrSettings(**values)  # type: ignore[arg-type]
    rasa = RecordingRasa()
    app = create_app(settings)
    app.dependency_overrides[get_rasa] = lambda: rasa
    app.dependency_overrides[get_ivr_settings] = lambda: ivr
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        yield Voice(client=client, settings=settings, ivr=ivr, rasa=rasa)


@pytest.fixture
def voice(tmp_path: Path, prompts_dir: Path) -> Iterator[Voice]:
    yield from make_voice(tmp_path, prompts_dir)


@dataclass
class Caller:
    """One phone call, made of signed Twilio requests; keeps every TwiML answer."""

    voice: Voice
    number: str = "+919812300001"
    sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    answers: list[ElementTree.Element] = field(default_factory=list)
    base: str = BASE  # the address Twilio signs for (PUBLIC_URL when set)

    def post(self, path: str, **fields: str) -> ElementTree.Element:
        form = {
            "CallSid": self.sid,
            "AccountSid": "AC" + "1" * 32,
            "From": self.number,
            "To": "+918000000000",
            "CallStatus": "in-progress",
            **fields,
        }
        response = post_signed(self.voice.client, f"{self.base}{path}", form)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        root = ElementTree.fromstring(response.text)
        self.answers.append(root)
        return root

    def call(self) -> ElementTree.Element:
        return self.post("/twilio/voice")

    def press(self, digits: str) -> ElementTree.Element:
        return self.post("/twilio/voice/input", Digits=digits)

    def say(self, words: str) -> ElementTree.Element:
        return self.post("/twilio/voice/input", SpeechResult=words, Confidence="0.9")

    def silence(self) -> ElementTree.Element:
        return self.post("/twilio/voice/input")

    def hang_up(self) -> int:
        form = {"CallSid": self.sid, "From": self.number, "CallStatus": "completed"}
        return post_signed(self.voice.client, f"{self.base}/twilio/voice/status", form).status_code


@pytest.fixture
def caller(voice: Voice) -> Caller:
    return Caller(voice)


def spoken(root: ElementTree.Element) -> str:
    """Everything said in a TwiML answer, in order (recorded prompts by their file name)."""
    parts = []
    for element in root.iter():
        if element.tag == "Say":
            parts.append(element.text or "")
        elif element.tag == "Play":
            parts.append(f"[play {element.text}]")
    return " ".join(parts)


def gathers(root: ElementTree.Element) -> list[ElementTree.Element]:
    return root.findall("Gather")
