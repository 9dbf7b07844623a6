"""Hostile input: property-based tests of parsing and routing, schemathesis against the
gateway's OpenAPI (no 5xx), bad requests of every kind, escaping in the console, rate
limits, session expiry and security headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
import schemathesis
from fastapi import HTTPException
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from sqlalchemy import select
from starlette.requests import Request

from bot.channels.whatsapp import inbound_from_form, twiml_for
from bot.cli import add_counsellor
from bot.console import security
from bot.core.deps import get_rasa
from bot.main import create_app
from bot.rasa_client import BotReply
from bot.ratelimit import RateLimiter, client_address
from bot.responses import get_catalogue
from bot.routing.choices import decide_turn, pick_choice
from bot.storage.crypto import normalise_address, phone_key
from bot.storage.db import session_scope
from bot.storage.models import Message
from tests.conftest import make_settings, post_signed, sign, whatsapp_form
from tests.console.conftest import PASSWORD, build, counsellor, make_case, sign_in, token
from tests.gateway.conftest import RecordingRasa
from tests.production.conftest import PrivateRedis

URL = "http://testserver/twilio/whatsapp"
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

text_values = st.text(max_size=80)
forms = st.dictionaries(
    st.sampled_from(["From", "Body", "MessageSid", "NumMedia", "MediaUrl0", "MediaUrl1", "To"])
    | st.text(max_size=12),
    text_values,
    max_size=8,
)


@PROPERTY
@given(form=forms)
def test_webhook_form_parsing_gives_a_message_or_a_400(form: dict[str, str]) -> None:
    try:
        inbound = inbound_from_form(form)
    except HTTPException as error:
        assert error.status_code == 400
        return
    assert inbound.address == form["From"] and inbound.text == form["Body"]
    assert len(inbound.media_urls) <= 10


@PROPERTY
@given(address=st.text(max_size=40), secret=st.text(min_size=1, max_size=20))
def test_phone_keys_are_stable_and_never_the_number(address: str, secret: str) -> None:
    normal = normalise_address(address)
    assert normalise_address(normal) == normal
    assert set(normal) <= set("+0123456789")
    key = phone_key(address, secret=secret)
    assert len(key) == 64 and key == phone_key(f"whatsapp:{normal}", secret=secret)


@PROPERTY
@given(
    text=st.text(max_size=60),
    known=st.sampled_from([None, "en", "hi", "bn", "ta"]),
    choices=st.none() | st.lists(st.text(min_size=1, max_size=20), max_size=12),
)
def test_routing_decisions_never_fail_and_pick_only_offered_choices(
    text: str, known: str | None, choices: list[str] | None
) -> None:
    turn = decide_turn(text=text, known_language=known, choices=choices)
    assert isinstance(turn.text, str)
    picked = pick_choice(text, choices)
    assert picked is None or (choices is not None and picked in choices)


@PROPERTY
@given(replies=st.lists(st.text(max_size=200), min_size=1, max_size=4))
def test_twiml_is_always_well_formed_and_keeps_the_text(replies: list[str]) -> None:
    printable = ["".join(ch for ch in r if ch.isprintable() or ch == "\n") for r in replies]
    root = ElementTree.fromstring(twiml_for([BotReply(t) for t in printable]))
    assert [m.findtext("Body") or "" for m in root.iter("Message")] == printable


@pytest.fixture(scope="module")
def gateway_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, object]]:
    tmp = tmp_path_factory.mktemp("hostile")
    app_settings = make_settings(tmp, CONSOLE_EVENT_STREAM_SECONDS="0.5")
    app = create_app(app_settings)
    app.dependency_overrides[get_rasa] = lambda: RecordingRasa()
    with TestClient(app, base_url="http://testserver") as client:
        yield client, app_settings


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "text/plain", "application/json", ""]
    ),
    signed=st.booleans(),
)
def test_raw_bodies_get_a_clear_4xx_never_a_5xx(
    gateway_app: tuple[TestClient, object], body: bytes, content_type: str, signed: bool
) -> None:
    client, _ = gateway_app
    headers = {"Content-Type": content_type} if content_type else {}
    if signed:
        headers["X-Twilio-Signature"] = sign(URL, {})
    response = client.post(URL, content=body, headers=headers)
    assert response.status_code in (400, 403, 413, 415), response.text


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=300))
def test_any_signed_text_is_answered_with_valid_twiml(
    gateway_app: tuple[TestClient, object], text: str
) -> None:
    client, _ = gateway_app
    response = post_signed(client, URL, whatsapp_form(text))
    assert response.status_code == 200
    ElementTree.fromstring(response.text)


def test_bad_requests_each_get_their_own_clear_answer(
    gateway_app: tuple[TestClient, object],
) -> None:
    client, app_settings = gateway_app
    form = whatsapp_form("hello, I need help with my ration card")
    unsigned = client.post(
        URL, content=urlencode(form), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert unsigned.status_code == 403
    oversized = client.post(
        URL,
        content=b"Body=" + b"a" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert oversized.status_code == 413
    latin1 = "Body=caf\xe9&From=whatsapp:+91".encode("latin-1")
    mis_encoded = client.post(
        URL,
        content=latin1,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )
    assert mis_encoded.status_code == 400
    first = post_signed(client, URL, form)
    replay = post_signed(client, URL, form)  # a captured request sent again
    assert first.status_code == replay.status_code == 200
    assert ElementTree.fromstring(replay.text).findall("Message") == []
    with session_scope(app_settings.database_url) as session:  # type: ignore[attr-defined]
        stored = session.scalars(
            select(Message).where(Message.twilio_sid == form["MessageSid"])
        ).all()
        assert len(stored) == 1


@pytest.fixture(scope="module")
def supervisor(gateway_app: tuple[TestClient, object]) -> dict[str, str]:
    """A supervisor's bearer token, so that schemathesis reaches past the sign-in."""
    client, app_settings = gateway_app
    add_counsellor(
        database_url=app_settings.database_url,  # type: ignore[attr-defined]
        username="schemathesis",
        name="Schemathesis",
        role="supervisor",
        languages=["en", "hi"],
        password=PASSWORD,
    )
    return token(client, "schemathesis")


@pytest.fixture(scope="module")
def api_schema(gateway_app: tuple[TestClient, object]):  # type: ignore[no-untyped-def]
    client, _ = gateway_app
    # FastAPI writes OpenAPI 3.1, which schemathesis 3 reads behind this switch.
    schemathesis.experimental.OPEN_API_3_1.enable()
    return schemathesis.from_asgi("/openapi.json", client.app)


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_schemathesis_finds_no_server_error(
    case: schemathesis.Case, supervisor: dict[str, str]
) -> None:
    response = case.call(headers=supervisor)
    if case.path == "/readyz" and response.status_code == 503:
        # Its documented answer here: no Rasa runs beside this in-process gateway.
        assert response.json()["checks"]["database"] == "ok"
        return
    if case.path == "/simulator/voice/step" and response.status_code == 502:
        # The voice simulator calls the gateway over HTTP; in-process nothing listens.
        assert "could not reach this gateway" in response.json()["detail"]
        return
    case.validate_response(response, checks=(not_a_server_error,))


def test_script_injection_is_shown_escaped_in_the_console(tmp_path: Path) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with build(tmp_path) as console:
        counsellor(console, "asha")
        handoff = make_case(console, phone="+919812399901", text=attack)
        sign_in(console.client, "asha")
        page = console.client.get(f"/console/cases/{handoff}")
        api = console.client.get(
            f"/api/cases/{handoff}/messages", headers=token(console.client, "asha")
        )
    assert page.status_code == 200
    assert attack not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert api.headers["content-type"].startswith("application/json")


def test_console_sessions_expire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The clock moves, not the test: a real sleep is flaky when signing in is slow.
    with build(tmp_path, console={"CONSOLE_SESSION_HOURS": 1}) as console:
        counsellor(console, "asha")
        sign_in(console.client, "asha")
        assert console.client.get("/console/queue").status_code == 200
        later = security._now_seconds() + 3601
        monkeypatch.setattr(security, "_now_seconds", lambda: later)
        expired = console.client.get("/console/queue")
    assert expired.status_code in (302, 303) and "sign-in" in expired.headers["location"]


def test_security_headers_on_every_answer(gateway_app: tuple[TestClient, object]) -> None:
    client, _ = gateway_app
    for path in ("/healthz", "/simulator", "/openapi.json"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["referrer-policy"] == "same-origin", path


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_forwarded_addresses_are_believed_only_from_our_proxies() -> None:
    trusted = ("127.0.0.1",)
    assert client_address(_request("127.0.0.1", "203.0.113.9"), trusted) == "203.0.113.9"
    assert client_address(_request("127.0.0.1", "1.2.3.4, 203.0.113.9"), trusted) == "203.0.113.9"
    assert client_address(_request("198.51.100.7", "203.0.113.9"), trusted) == "198.51.100.7"
    assert client_address(_request("127.0.0.1", "not-an-ip"), trusted) == "127.0.0.1"


def test_rate_limit_per_address_is_a_clear_429(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, SAHAY_RATE_IP_PER_MINUTE="5"))
    with TestClient(app) as client:
        codes = [client.get("/simulator").status_code for _ in range(7)]
        refused = client.get("/simulator")
        health = client.get("/healthz")
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    assert refused.json()["detail"].startswith("too many requests from this address")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert health.status_code == 200  # health checks are never limited


def test_rate_limit_per_sender_queues_whatsapp_and_refuses_the_simulator(tmp_path: Path) -> None:
    rasa = RecordingRasa()
    app = create_app(make_settings(tmp_path, SAHAY_RATE_SENDER_PER_MINUTE="3"))
    app.dependency_overrides[get_rasa] = lambda: rasa
    with TestClient(app, base_url="http://testserver") as client:
        answers = [
            post_signed(client, URL, whatsapp_form(f"I need help with my ration card {i}"))
            for i in range(5)
        ]
        crisis = post_signed(client, URL, whatsapp_form("I want to kill myself"))
        other = post_signed(
            client, URL, whatsapp_form("I need help with my wages", sender="+919800000777")
        )
        simulated = [
            client.post("/simulator/messages", json={"phone": "+919800000888", "text": "hi"})
            for _ in range(4)
        ]
    assert [a.status_code for a in answers] == [200] * 5
    assert len(rasa.turns) == 3 + 1  # the first three, then the other person's
    # The first message over the limit is told to wait a minute; the next gets no reply.
    slow_down = get_catalogue().render("utter_slow_down", "en")
    assert slow_down in answers[3].text and "one by one" in slow_down
    assert slow_down not in answers[4].text and "<Message>" not in answers[4].text
    assert "14416" in crisis.text  # over the limit, a crisis is still answered at once
    assert other.status_code == 200
    assert [s.status_code for s in simulated] == [200, 200, 200, 429]
    assert "too many messages from this phone" in simulated[-1].json()["detail"]


def test_rate_limits_are_shared_through_redis(private_redis: PrivateRedis) -> None:
    replica_a, replica_b = RateLimiter(private_redis.url), RateLimiter(private_redis.url)
    now = 1_000_040.0
    verdicts = [
        (replica_a if i % 2 else replica_b).hit("ip:203.0.113.5", limit=4, now=now)
        for i in range(6)
    ]
    assert [v.allowed for v in verdicts] == [True] * 4 + [False] * 2
    assert verdicts[-1].retry_after == 40
    assert RateLimiter("redis://127.0.0.1:1/0").hit("x", limit=1).allowed  # Redis down: open


def test_numbers_past_the_databases_integers_are_a_422(
    gateway_app: tuple[TestClient, object],
) -> None:
    client, _ = gateway_app
    response = client.get("/simulator/outbox", params={"phone": "+919800000001", "after": 2**70})
    assert response.status_code == 422
    assert response.json() == {"detail": "a number in the request is out of range"}
