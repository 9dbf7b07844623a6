"""The Rasa client's tracker events: the crisis pause does not wait, and stays in order."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.rasa_client import RasaBusy, RasaClient, RasaUnavailable
from tests.conftest import free_port
from tests.stand_in import JsonHandler, serving


class SlowRasa(ThreadingHTTPServer):
    """Answers the tracker events API after `delay` seconds and records the events."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.events: list[tuple[str, str]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: SlowRasa

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.server.delay)
        self.server.events.append((self.path.split("/")[2], body["event"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def slow_rasa() -> Iterator[SlowRasa]:
    server = SlowRasa(delay=0.3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(server: SlowRasa) -> RasaClient:
    host, port = server.server_address[:2]
    return RasaClient(f"http://{host!s}:{port}", timeout=5)


def test_the_crisis_pause_does_not_wait_for_rasa(slow_rasa: SlowRasa) -> None:
    client = client_for(slow_rasa)
    started = time.perf_counter()
    client.pause_soon(sender="abc")
    assert time.perf_counter() - started < 0.1
    assert slow_rasa.events == []
    client.close()  # sends what is still waiting
    assert slow_rasa.events == [("abc", "pause")]


def test_a_resume_never_overtakes_a_pause_on_its_way(slow_rasa: SlowRasa) -> None:
    client = client_for(slow_rasa)
    client.pause_soon(sender="abc")
    client.resume(sender="abc")  # waits for its turn, after the pause
    assert slow_rasa.events == [("abc", "pause"), ("abc", "resume")]
    client.close()


def test_rasa_down_the_crisis_pause_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1)
    with caplog.at_level(logging.WARNING, logger="bot.rasa_client"):
        client.pause_soon(sender="abc")
        client.close()
    assert "could not pause Rasa" in caplog.text
    with pytest.raises(RasaUnavailable):
        RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1).pause(sender="abc")


def test_after_close_the_crisis_pause_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    client = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1)
    client.close()
    with caplog.at_level(logging.WARNING, logger="bot.rasa_client"):
        client.pause_soon(sender="abc")
    assert "could not pause Rasa" in caplog.text


class _Claimed(JsonHandler):
    """The engine's channel refusing a message it has a claim on."""

    state = "in_progress"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self._json(409, {"status": self.state})


@pytest.mark.parametrize(("state", "processed"), [("in_progress", False), ("processed", True)])
def test_a_claimed_message_raises_busy_saying_whether_it_was_processed(
    state: str, processed: bool
) -> None:
    handler = type("Handler", (_Claimed,), {"state": state})
    with serving(handler) as url:
        client = RasaClient(url, timeout=5)
        try:
            with pytest.raises(RasaBusy) as raised:
                client.send(sender="abc", text="hi", metadata={"sahay_ref": "SM1"})
            assert raised.value.processed is processed
            assert isinstance(raised.value, RasaUnavailable)  # callers that only know that one
        finally:
            client.close()
