"""A gateway in-process with a stand-in for the Rasa server (the real one is tested in
tests/integration)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.core.config import Settings
from bot.core.deps import get_rasa
from bot.main import create_app
from bot.rasa_client import BotReply, RasaUnavailable
from tests.conftest import make_settings


@dataclass
class RecordingRasa:
    """Answers every turn with fixed replies and remembers what it was sent."""

    replies: list[BotReply] = field(default_factory=lambda: [BotReply("Namaste from Sahay")])
    down: bool = False
    turns: list[dict[str, Any]] = field(default_factory=list)
    paused: set[str] = field(default_factory=set)
    restarted: list[str] = field(default_factory=list)

    def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.turns.append({"sender": sender, "text": text, "metadata": metadata})
        return list(self.replies)

    def replies_to(self, *, sender: str, ref: str) -> list[BotReply] | None:
        if self.down:
            raise RasaUnavailable("connection refused")
        seen = any(turn["metadata"].get("sahay_ref") == ref for turn in self.turns)
        return list(self.replies) if seen else None

    def pause(self, *, sender: str) -> None:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.paused.add(sender)

    def pause_soon(self, *, sender: str) -> None:
        if not self.down:  # the real client only logs the failure
            self.paused.add(sender)

    def resume(self, *, sender: str) -> None:
        self.paused.discard(sender)

    def restart(self, *, sender: str) -> None:
        if self.down:
            raise RasaUnavailable("connection refused")
        self.restarted.append(sender)
        self.paused.discard(sender)

    def close(self) -> None:
        pass


@dataclass
class Gateway:
    client: TestClient
    settings: Settings
    rasa: RecordingRasa


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    settings = make_settings(tmp_path)
    rasa = RecordingRasa()
    app = create_app(settings)
    app.dependency_overrides[get_rasa] = lambda: rasa
    with TestClient(app, base_url="http://testserver") as client:
        yield Gateway(client=client, settings=settings, rasa=rasa)
