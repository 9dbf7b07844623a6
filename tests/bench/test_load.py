"""The load generator without a network: signing, answers, outcomes, the level loop."""

from __future__ import annotations

import asyncio
import itertools
import time
from urllib.parse import parse_qsl

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bench.load import (
    GatewayTarget,
    LevelRun,
    RasaTarget,
    TurnResult,
    judge,
    only,
    play_turn,
    rasa_texts,
    require_loopback,
    run_level,
    signed_webhook,
    twiml_bodies,
)
from bench.scripts import Person, ScriptTurn, all_scripts, paired, people
from bot.rasa_client import BotReply
from tests.conftest import TWILIO_TEST_TOKEN, whatsapp_form
from tests.gateway.conftest import Gateway

URL = "http://testserver/twilio/whatsapp"
RASA_TURN = ScriptTurn(
    kind="entitlement", text="what is e-shram", rasa_text="what is e-shram", path="rasa"
)
CRISIS_TURN = ScriptTurn(
    kind="crisis", text="i want to die", rasa_text="i want to die", path="crisis"
)


def test_the_signature_is_twilios() -> None:
    form = whatsapp_form("नमस्ते", sender="+919000000001")
    body, headers = signed_webhook(URL, form, TWILIO_TEST_TOKEN)
    signature = headers["X-Twilio-Signature"]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(body)) == form
    assert RequestValidator(TWILIO_TEST_TOKEN).validate(URL, form, signature)
    assert not RequestValidator("another-token").validate(URL, form, signature)


def test_the_gateway_accepts_the_signed_webhook_and_its_answer_is_read(gateway: Gateway) -> None:
    gateway.rasa.replies = [BotReply("first"), BotReply("second")]
    form = whatsapp_form("hello, I need help with my ration card", sender="+919000000002")
    body, headers = signed_webhook(URL, form, TWILIO_TEST_TOKEN)

    response = gateway.client.post(URL, content=body, headers=headers)

    assert response.status_code == 200
    assert twiml_bodies(response.text) == ["first", "second"]
    assert GatewayTarget("http://127.0.0.1:1", auth_token="x").replies(response.text) == [
        "first",
        "second",
    ]


def test_a_tampered_body_is_refused_by_the_gateway(gateway: Gateway) -> None:
    form = whatsapp_form("hello", sender="+919000000003")
    body, headers = signed_webhook(URL, form, TWILIO_TEST_TOKEN)
    response = gateway.client.post(URL, content=body.replace("hello", "hullo"), headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "http://localhost:5005/x", "http://[::1]:1"]
)
def test_loopback_addresses_are_accepted(url: str) -> None:
    assert require_loopback(url) == url


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:8000", "https://example.org", "http://0.0.0.0:80"]
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        require_loopback(url)
    with pytest.raises(ValueError, match="loopback"):
        RasaTarget(url)


def test_rest_channel_answers_are_read() -> None:
    answer = [{"recipient_id": "x", "text": "one"}, {"image": "http://i/1.png"}, {"custom": {}}]
    assert rasa_texts(answer) == ["one", "http://i/1.png"]
    assert rasa_texts([]) == []
    with pytest.raises(ValueError):
        rasa_texts({"text": "not a list"})


def test_judge() -> None:
    assert judge(RASA_TURN, ["an answer"]) == "ok"
    assert judge(RASA_TURN, []) == "lost"
    assert judge(CRISIS_TURN, ["Please call Tele-MANAS 14416 or 112"]) == "ok"
    assert judge(CRISIS_TURN, ["Sorry, I did not understand that answer"]) == "wrong"


class FakeTarget:
    """Answers after `delay` seconds; remembers how many turns were in flight at once."""

    name = "fake"

    def __init__(self, delay: float = 0.002, fail: Exception | None = None) -> None:
        self.delay = delay
        self.fail = fail
        self.in_flight = 0
        self.most_in_flight = 0
        self.sent: list[tuple[str, str]] = []

    async def send(self, client: httpx.AsyncClient, person: Person, turn: ScriptTurn) -> str:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.fail is not None:
                raise self.fail
            self.sent.append((person.phone, turn.text))
            return "14416" if turn.path == "crisis" else "answer"
        finally:
            self.in_flight -= 1

    def replies(self, answer: str) -> list[str]:
        return [answer]


def run(target: FakeTarget, *, level: int, turns: int, max_seconds: float = 10.0) -> LevelRun:
    line = people(all_scripts(), numbers=itertools.count(1))
    return asyncio.run(
        run_level(target, level=level, people=line, turns=turns, max_seconds=max_seconds, timeout=1)
    )


def test_a_level_keeps_that_many_people_talking_at_once() -> None:
    target = FakeTarget()
    result = run(target, level=5, turns=60)
    assert target.most_in_flight == 5
    assert result.level == 5 and result.target == "fake"
    assert all(r.outcome == "ok" for r in result.results)


def test_people_wait_for_each_answer_and_play_their_script_in_order() -> None:
    target = FakeTarget()
    run(target, level=3, turns=30)
    by_phone: dict[str, list[str]] = {}
    for phone, text in target.sent:
        by_phone.setdefault(phone, []).append(text)
    scripts = {tuple(t.text for t in s.turns) for s in all_scripts()}
    for texts in by_phone.values():
        assert any(script[: len(texts)] == tuple(texts) for script in scripts)


def test_the_turn_budget_is_kept_in_whole_conversations() -> None:
    target = FakeTarget()
    result = run(target, level=1, turns=10)
    longest = max(len(s.turns) for s in all_scripts())
    assert 10 <= len(result.results) < 10 + longest
    # Every person plays a whole conversation.
    assert len({phone for phone, _ in target.sent}) == 2


def test_every_worker_plays_at_least_one_conversation_even_on_a_small_budget() -> None:
    target = FakeTarget()
    run(target, level=8, turns=1)
    assert len({phone for phone, _ in target.sent}) == 8


def test_no_turn_starts_after_the_time_limit() -> None:
    target = FakeTarget(delay=0.05)
    started = time.perf_counter()
    result = run(target, level=2, turns=10_000, max_seconds=0.3)
    assert time.perf_counter() - started < 1.0
    assert 0 < len(result.results) < 30


@pytest.mark.parametrize(
    ("error", "outcome", "status"),
    [
        (httpx.ReadTimeout("slow"), "timeout", None),
        (httpx.ConnectError("refused"), "error", None),
        (
            httpx.HTTPStatusError(
                "boom",
                request=httpx.Request("POST", "http://127.0.0.1"),
                response=httpx.Response(503),
            ),
            "error",
            503,
        ),
    ],
)
def test_failures_are_counted_by_kind(error: Exception, outcome: str, status: int | None) -> None:
    [person] = itertools.islice(people(all_scripts(), numbers=itertools.count(1)), 1)

    async def one() -> TurnResult:
        async with httpx.AsyncClient() as client:
            return await play_turn(client, FakeTarget(fail=error), person, RASA_TURN)

    result = asyncio.run(one())
    assert (result.outcome, result.status) == (outcome, status)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        run(FakeTarget(), level=0, turns=10)


class OtherTarget(FakeTarget):
    name = "other"


def test_a_paired_level_gives_every_script_to_both_targets() -> None:
    fake, other = FakeTarget(), OtherTarget()
    scripts = all_scripts()
    line = people(paired(scripts), numbers=itertools.count(1))
    result = asyncio.run(
        run_level((fake, other), level=1, people=line, turns=200, max_seconds=10, timeout=1)
    )
    assert result.target == "fake+other"
    fake_phones = {phone for phone, _ in fake.sent}
    other_phones = {phone for phone, _ in other.sent}
    assert fake_phones and other_phones and not fake_phones & other_phones
    fake_part, other_part = only(result, "fake"), only(result, "other")
    assert {r.script for r in fake_part.results} == {s.name for s in scripts}
    assert sorted(r.script for r in fake_part.results) == sorted(
        r.script for r in other_part.results
    )
    assert fake_part.elapsed_s == result.elapsed_s


def test_a_paired_level_keeps_that_many_people_talking_at_once() -> None:
    fake, other = FakeTarget(), OtherTarget()
    line = people(paired(all_scripts()), numbers=itertools.count(1))
    asyncio.run(run_level((fake, other), level=6, people=line, turns=60, max_seconds=10, timeout=1))
    assert fake.most_in_flight >= 3 and other.most_in_flight >= 3
    assert fake.most_in_flight + other.most_in_flight <= 12
