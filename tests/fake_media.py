"""Local stand-ins for Twilio's media URLs and for Google Cloud Speech-to-Text.

Twilio serves `MediaUrl{i}` only with the account's credentials (HTTP basic auth) and
answers with a redirect to short-lived storage; Google's `speech:recognize` takes
`{"config", "audio": {"content": base64}}` with `?key=` and answers `{"results": [...]}`.
Both are imitated closely enough for the real clients to be tested against them. A
media URL can also be held (a slow Twilio: the request waits until the test releases it,
or until the client gives up) — an event, not a sleep, so no test depends on timing.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.stand_in import JsonHandler, serving

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token-" + "0" * 16
ASR_KEY = "test-speech-key"


@dataclass
class FakeMedia:
    """Media by name, and what the speech service should hear in each voice note."""

    url: str = ""
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    transcripts: dict[bytes, tuple[str, float, str]] = field(default_factory=dict)
    fetches: list[dict[str, str]] = field(default_factory=list)
    recognize_requests: list[dict[str, Any]] = field(default_factory=list)
    # name -> how many of its next fetches wait for `released` (at most `longest_hold` s).
    held: dict[str, int] = field(default_factory=dict)
    released: threading.Event = field(default_factory=threading.Event)
    longest_hold: float = 60.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, name: str, times: int = 1) -> None:
        """Make the next `times` fetches of `name` wait until `release()`."""
        with self._lock:
            self.held[name] = times

    def release(self) -> None:
        """Let every held fetch go on."""
        self.released.set()

    def _wait_if_held(self, name: str) -> None:
        with self._lock:
            waiting = self.held.get(name, 0) > 0
            if waiting:
                self.held[name] -= 1
        if waiting:
            self.released.wait(self.longest_hold)

    def add(self, name: str, content_type: str, data: bytes) -> str:
        """Serve `data` at a Twilio-like media URL; returns the URL."""
        self.files[name] = (content_type, data)
        return f"{self.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/{name}"


@contextmanager
def fake_media() -> Iterator[FakeMedia]:
    state = FakeMedia()
    expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            path = urlparse(self.path).path
            name = path.rsplit("/", 1)[-1]
            if path.startswith("/storage/"):
                self._send_file(name)
                return
            state.fetches.append({"path": path, "auth": self.headers.get("Authorization", "")})
            state._wait_if_held(name)
            if self.headers.get("Authorization") != expected:
                self._json(401, {"code": 20003, "message": "Authenticate"})
                return
            if name not in state.files:
                self._json(404, {"code": 20404, "message": "not found"})
                return
            self.send_response(307)
            self.send_header("Location", f"/storage/{name}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _send_file(self, name: str) -> None:
            if name not in state.files:
                self._json(404, {"message": "gone"})
                return
            content_type, data = state.files[name]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            parsed = urlparse(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if parsed.path != "/v1/speech:recognize":
                self._json(404, {"error": {"code": 404, "message": "not found"}})
                return
            if parse_qs(parsed.query).get("key") != [ASR_KEY]:
                self._json(403, {"error": {"code": 403, "status": "PERMISSION_DENIED"}})
                return
            state.recognize_requests.append(body)
            config, audio = body.get("config") or {}, body.get("audio") or {}
            if not config.get("languageCode") or "content" not in audio:
                self._json(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}})
                return
            heard = state.transcripts.get(base64.b64decode(audio["content"]))
            if heard is None:
                self._json(200, {"totalBilledTime": "1s"})  # nothing recognised: no results
                return
            text, confidence, language = heard
            self._json(
                200,
                {
                    "results": [
                        {
                            "alternatives": [{"transcript": text, "confidence": confidence}],
                            "resultEndTime": "2.500s",
                            "languageCode": language,
                        }
                    ],
                    "totalBilledTime": "3s",
                    "requestId": "1234567890",
                },
            )

    with serving(Handler) as url:
        state.url = url
        try:
            yield state
        finally:
            state.release()  # a held download lets go before the server stops


def ogg_opus(seed: bytes = b"") -> bytes:
    """A few bytes that look like the start of a WhatsApp voice note (OpusHead, 16 kHz)."""
    head = b"OpusHead" + bytes([1, 1]) + (312).to_bytes(2, "little")
    head += (16000).to_bytes(4, "little") + (0).to_bytes(2, "little") + bytes([0])
    return b"OggS" + bytes(22) + head + seed
