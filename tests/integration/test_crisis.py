"""A crisis in any language, mid-screening, with Rasa up and with Rasa stopped."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
import yaml

from bot.core.config import PROJECT_ROOT
from bot.launcher import service_commands, start, stop
from bot.storage.crypto import phone_key
from tests.conftest import Helpline, free_port, make_settings
from tests.integration.test_languages import share_in_script

pytestmark = pytest.mark.integration

LANGUAGES = ("en", "hi", "bn", "or", "as", "mr", "gu", "pa", "ta", "te", "kn", "ml")
MENU_NUMBER = {code: str(i) for i, code in enumerate(LANGUAGES, start=1)}


def first_suicide_message(language: str) -> str:
    data = yaml.safe_load((PROJECT_ROOT / "tests" / "safety" / f"{language}.yml").read_text())
    return next(item["text"] for item in data["crisis"] if item["category"] == "suicide")


def say(helpline: Helpline, sender: str, text: str) -> str:
    response = helpline.whatsapp(text, sender=sender)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.text)
    return "\n".join(m.findtext("Body") or "" for m in root.findall("Message"))


def urgent_handoffs(helpline: Helpline, sender: str) -> list[tuple[str]]:
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with sqlite3.connect(helpline.settings.database_url.removeprefix("sqlite:///")) as db:
        return db.execute(
            "SELECT h.priority FROM handoffs h "
            "JOIN conversations c ON h.conversation_id = c.id "
            "JOIN contacts p ON c.contact_id = p.id "
            "WHERE p.phone_key = ? AND h.priority = 'urgent'",
            (key,),
        ).fetchall()


@pytest.mark.parametrize("language", LANGUAGES)
def test_crisis_mid_screening_gets_the_crisis_reply_in_that_language(
    helpline: Helpline, language: str
) -> None:
    sender = f"+9197777{LANGUAGES.index(language):05d}"
    say(helpline, sender, "hi")
    say(helpline, sender, MENU_NUMBER[language])
    say(helpline, sender, "/start_screening")
    say(helpline, sender, "/affirm")  # yes to the screening: the first question follows
    reply = say(helpline, sender, first_suicide_message(language))

    assert "14416" in reply and "112" in reply, reply
    assert share_in_script(reply, language) > 0.5, reply
    assert urgent_handoffs(helpline, sender) == [("urgent",)]


@pytest.fixture(scope="module")
def helpline_without_rasa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Helpline]:
    """The gateway and action server, with Rasa's port pointing at nothing."""
    tmp = tmp_path_factory.mktemp("no-rasa")
    settings = make_settings(
        tmp,
        GATEWAY_PORT=str(free_port()),
        RASA_PORT=str(free_port()),
        ACTION_SERVER_PORT=str(free_port()),
        RASA_TIMEOUT_SECONDS="2",
    )
    commands = [c for c in service_commands(settings) if c.name != "rasa"]
    processes: list[subprocess.Popen[bytes]] = [start(c, log_dir=tmp / "logs") for c in commands]
    url = f"http://127.0.0.1:{settings.gateway_port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield Helpline(url=url, settings=settings, logs=tmp / "logs")
    finally:
        stop(processes)


@pytest.mark.parametrize("language", LANGUAGES)
def test_crisis_with_rasa_stopped(helpline_without_rasa: Helpline, language: str) -> None:
    sender = f"+9196666{LANGUAGES.index(language):05d}"
    say(helpline_without_rasa, sender, "hi")  # the language menu needs no Rasa
    say(helpline_without_rasa, sender, MENU_NUMBER[language])  # Rasa is down: fallback
    reply = say(helpline_without_rasa, sender, first_suicide_message(language))

    assert "14416" in reply and "112" in reply, reply
    assert share_in_script(reply, language) > 0.5, reply
    assert urgent_handoffs(helpline_without_rasa, sender) == [("urgent",)]
    readiness = httpx.get(f"{helpline_without_rasa.url}/readyz").json()
    assert readiness["checks"]["rasa"].startswith("error")


def test_rasa_down_fallback_is_in_the_persons_language(helpline_without_rasa: Helpline) -> None:
    sender = "+919666699999"
    say(helpline_without_rasa, sender, "hi")
    reply = say(helpline_without_rasa, sender, MENU_NUMBER["ta"])
    assert "14416" in reply and share_in_script(reply, "ta") > 0.5, reply
    assert Path(helpline_without_rasa.settings.database_url.removeprefix("sqlite:///")).exists()
