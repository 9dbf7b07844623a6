"""A local HTTP server standing in for Twilio's REST API, for the official client to talk to.

It answers message creation (`Messages.json`) and call updates (`Calls/<CallSid>.json`,
which redirect a live call to new TwiML) the way Twilio does, or with an error.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class FakeTwilio:
    """Records every request (form fields and `_path`); answers like Twilio, or with an error."""

    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    fail_with: int | None = None


@contextmanager
def fake_twilio() -> Iterator[FakeTwilio]:
    state = FakeTwilio()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            form["_path"] = self.path
            state.requests.append(form)
            call = re.search(r"/Calls/(CA[0-9a-f]+)\.json$", self.path)
            if state.fail_with:
                body = (
                    {"code": 21220, "message": "Call is not in-progress", "status": 400}
                    if call
                    else {"code": 63016, "message": "Outside the allowed window", "status": 400}
                )
                self._reply(state.fail_with, body)
                return
            if call:
                self._reply(200, {"sid": call.group(1), "status": "in-progress"})
                return
            sid = f"SM{len(state.requests):032d}"
            self._reply(
                201,
                {
                    "sid": sid,
                    "status": "queued",
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "body": form.get("Body"),
                },
            )

        def _reply(self, code: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
