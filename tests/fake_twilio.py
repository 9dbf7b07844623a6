"""A local HTTP server standing in for Twilio's REST API, for the official client to talk to.

It answers message creation (`Messages.json`) and call updates (`Calls/<CallSid>.json`,
which redirect a live call to new TwiML) the way Twilio does, or with an error; and the
Content API (content.twilio.com/v1, pointed here too): creating and listing content
templates, and WhatsApp approval requests, with the request and response bodies of
Twilio's API reference (JSON in and out, Basic auth, `meta.key` pagination, Twilio's
error body), validating what the real API validates so that a malformed definition fails
here as it would there.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.stand_in import JsonHandler, serving

ACCOUNT_SID = "AC" + "1" * 32
CONTENT_TYPES = {
    "twilio/text",
    "twilio/media",
    "twilio/location",
    "twilio/list-picker",
    "twilio/call-to-action",
    "twilio/quick-reply",
    "twilio/card",
    "twilio/catalog",
    "twilio/carousel",
    "twilio/flows",
    "twilio/schedule",
    "whatsapp/card",
    "whatsapp/authentication",
    "whatsapp/flows",
}
#: Types WhatsApp reviews as templates (a list picker is for replies within 24 hours only).
APPROVABLE = ("twilio/quick-reply", "twilio/call-to-action", "twilio/card", "twilio/text")
CATEGORIES = {"UTILITY", "MARKETING", "AUTHENTICATION"}


@dataclass
class FakeTwilio:
    """Records every request (form fields and `_path`); answers like Twilio, or with an error.

    `sids` are the message sids it answered with, in order; `contents` are the Content
    API's templates by sid (with `approval_requests`), and `content_requests` every Content
    API request as (method, path, JSON body).
    """

    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    fail_with: int | None = None
    contents: dict[str, dict[str, Any]] = field(default_factory=dict)
    content_requests: list[tuple[str, str, Any]] = field(default_factory=list)


class ContentError(Exception):
    """A request the Content API refuses: its status and Twilio's error body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }


def check_definition(body: Any) -> None:
    """Refuse what Twilio's Content API refuses (POST /v1/Content)."""
    if not isinstance(body, dict):
        raise ContentError(400, 20001, "Invalid JSON body")
    if not isinstance(body.get("language"), str) or not body["language"]:
        raise ContentError(400, 20001, "Missing required parameter language")
    types = body.get("types")
    if not isinstance(types, dict) or not any(v is not None for v in types.values()):
        raise ContentError(400, 20001, "Invalid types. At least one content type is required")
    for name, value in types.items():
        if name not in CONTENT_TYPES:
            raise ContentError(400, 20001, f"Unknown content type {name}")
        if value is not None and not isinstance(value, dict):
            raise ContentError(400, 20001, f"{name} must be an object")
    text = types.get("twilio/text")
    if text is not None and not text.get("body"):
        raise ContentError(400, 20001, "twilio/text requires a body")
    quick = types.get("twilio/quick-reply")
    if quick is not None:
        actions = quick.get("actions") or []
        if not quick.get("body") or not 1 <= len(actions) <= 10:
            raise ContentError(400, 20001, "twilio/quick-reply needs a body and 1-10 actions")
        for action in actions:
            if not action.get("title") or len(action["title"]) > 20 or not action.get("id"):
                raise ContentError(400, 20001, f"Invalid quick-reply action {action}")
    picker = types.get("twilio/list-picker")
    if picker is not None:
        items = picker.get("items") or []
        if not picker.get("body") or not picker.get("button") or not 1 <= len(items) <= 10:
            raise ContentError(400, 20001, "twilio/list-picker needs a body, button, 1-10 items")
        for item in items:
            if not item.get("item") or len(item["item"]) > 24 or not item.get("id"):
                raise ContentError(400, 20001, f"Invalid list-picker item {item}")
            if len(item.get("description") or "") > 72:
                raise ContentError(400, 20001, "A list-picker description is 72 characters at most")
    variables = body.get("variables")
    if variables is not None and not (
        isinstance(variables, dict) and all(isinstance(v, str) for v in variables.values())
    ):
        raise ContentError(400, 20001, "variables must map names to strings")


def _page(state: FakeTwilio, path: str, query: str, *, approvals: bool) -> dict[str, Any]:
    params = parse_qs(query)
    size = int((params.get("PageSize") or ["50"])[0])
    page = int((params.get("Page") or ["0"])[0])
    everything = list(state.contents.values())
    chunk = everything[page * size : (page + 1) * size]
    base = f"{state.url}{path}?PageSize={size}"
    more = (page + 1) * size < len(everything)
    contents = [
        {k: v for k, v in c.items() if approvals or k != "approval_requests"} for c in chunk
    ]
    return {
        "contents": contents,
        "meta": {
            "page": page,
            "page_size": size,
            "first_page_url": f"{base}&Page=0",
            "previous_page_url": f"{base}&Page={page - 1}" if page else None,
            "url": f"{base}&Page={page}",
            "next_page_url": f"{base}&Page={page + 1}" if more else None,
            "key": "contents",
        },
    }


@contextmanager
def fake_twilio() -> Iterator[FakeTwilio]:
    state = FakeTwilio()
    lock = threading.Lock()

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if not self._authorised():
                return
            with lock:
                state.content_requests.append(("GET", path, None))
                if path == "/v1/Content":
                    self._json(200, _page(state, path, query, approvals=False))
                elif path == "/v1/ContentAndApprovals":
                    self._json(200, _page(state, path, query, approvals=True))
                elif match := re.fullmatch(r"/v1/Content/(HX[0-9a-f]{32})/ApprovalRequests", path):
                    content = state.contents.get(match.group(1))
                    if content is None:
                        self._json(404, ContentError(404, 20404, "Not found").body)
                        return
                    self._json(
                        200,
                        {
                            "sid": content["sid"],
                            "account_sid": ACCOUNT_SID,
                            "url": f"{state.url}{path}",
                            "whatsapp": content["approval_requests"],
                        },
                    )
                else:
                    self._json(404, ContentError(404, 20404, "Not found").body)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            path = urlsplit(self.path).path
            if path.startswith("/v1/Content"):
                self._content_post(path, raw)
                return
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            form["_path"] = self.path
            state.requests.append(form)
            call = re.search(r"/Calls/(CA[0-9a-f]+)\.json$", self.path)
            if state.fail_with:
                body = (
                    {"code": 21220, "message": "Call is not in-progress", "status": 400}
                    if call
                    else {"code": 63016, "message": "Outside the allowed window", "status": 400}
                )
                self._json(state.fail_with, body)
                return
            if call:
                self._json(200, {"sid": call.group(1), "status": "in-progress"})
                return
            # Unique across stand-ins: tests sharing one helpline's database each start one.
            sid = "SM" + secrets.token_hex(16)
            state.sids.append(sid)
            self._json(
                201,
                {
                    "sid": sid,
                    "status": "queued",
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "body": form.get("Body"),
                },
            )

        def _content_post(self, path: str, raw: bytes) -> None:
            if not self._authorised():
                return
            try:
                if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                    raise ContentError(415, 20415, "Content-Type must be application/json")
                try:
                    body = json.loads(raw or b"null")
                except ValueError as error:
                    raise ContentError(400, 20001, "Invalid JSON body") from error
                with lock:
                    state.content_requests.append(("POST", path, body))
                    if state.fail_with:
                        raise ContentError(state.fail_with, 20001, "Refused by the stand-in")
                    if path == "/v1/Content":
                        self._json(201, self._create(body))
                        return
                    match = re.fullmatch(
                        r"/v1/Content/(HX[0-9a-f]{32})/ApprovalRequests/whatsapp", path
                    )
                    if match is None:
                        raise ContentError(404, 20404, "Not found")
                    self._json(201, self._approval(match.group(1), body))
            except ContentError as error:
                self._json(error.status, error.body)

        def _create(self, body: Any) -> dict[str, Any]:
            check_definition(body)
            sid = f"HX{len(state.contents) + 1:032x}"
            content = {
                "date_created": "2026-11-25T10:00:00Z",
                "date_updated": "2026-11-25T10:00:00Z",
                "sid": sid,
                "account_sid": ACCOUNT_SID,
                "friendly_name": body.get("friendly_name") or "",
                "language": body["language"],
                "variables": body.get("variables") or {},
                "types": {k: v for k, v in body["types"].items() if v is not None},
                "url": f"{state.url}/v1/Content/{sid}",
                "links": {
                    "approval_create": f"{state.url}/v1/Content/{sid}/ApprovalRequests/whatsapp",
                    "approval_fetch": f"{state.url}/v1/Content/{sid}/ApprovalRequests",
                },
            }
            state.contents[sid] = content | {
                "approval_requests": {
                    "name": "",
                    "category": "",
                    "content_type": "",
                    "status": "unsubmitted",
                    "rejection_reason": "",
                    "allow_category_change": True,
                }
            }
            return content

        def _approval(self, sid: str, body: Any) -> dict[str, Any]:
            content = state.contents.get(sid)
            if content is None:
                raise ContentError(404, 20404, f"Content {sid} not found")
            if not isinstance(body, dict) or not re.fullmatch(r"[a-z0-9_]+", body.get("name", "")):
                raise ContentError(400, 20001, "name: lowercase letters, digits and _ only")
            if body.get("category") not in CATEGORIES:
                raise ContentError(400, 20001, f"Invalid category {body.get('category')}")
            kind = next((t for t in APPROVABLE if t in content["types"]), None)
            if kind is None or "twilio/list-picker" in content["types"]:
                raise ContentError(400, 20001, "This content type cannot be sent for approval")
            if content["approval_requests"]["status"] != "unsubmitted":
                raise ContentError(409, 20409, "An approval request was already submitted")
            approval = {
                "name": body["name"],
                "category": body["category"],
                "content_type": kind,
                "status": "received",
                "rejection_reason": "",
                "allow_category_change": True,
            }
            content["approval_requests"] = approval
            return approval

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic "):
                user = base64.b64decode(header[6:]).decode().partition(":")[0]
                if user.startswith("AC"):
                    return True
            self._json(401, ContentError(401, 20003, "Authenticate").body)
            return False

    with serving(Handler) as url:
        state.url = url
        yield state
