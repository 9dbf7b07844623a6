"""The async load generator: simulated people, one turn at a time each, N at once.

A level runs `level` workers (a closed loop: concurrency stays at `level`). Each worker
takes the next person in line — a new phone number — and plays that person's whole
script, waiting for every answer before the next message, as a person does; then it takes
another person while the level's turn budget and time allow. Every worker plays at least
one whole conversation, so a level plays at least `level` conversations.

Two targets receive the same turns: the gateway's Twilio WhatsApp webhook (signed as
Twilio signs) and Rasa's REST channel. Only loopback addresses are accepted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

import httpx

from bench.scripts import Person, ScriptTurn
from tests.conftest import sign, whatsapp_form

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CRISIS_NUMBER = "14416"  # Tele-MANAS: every crisis reply, in every language, gives it

OUTCOMES = ("ok", "error", "timeout", "lost", "wrong")


def require_loopback(url: str) -> str:
    """`url` itself, or ValueError when it points anywhere but this machine's loopback."""
    host = urlsplit(url).hostname
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the benchmark only talks to loopback addresses, not {url!r}")
    return url


def signed_webhook(url: str, form: dict[str, str], token: str) -> tuple[str, dict[str, str]]:
    """The body and headers of a WhatsApp webhook POST, signed as Twilio signs it."""
    headers = {
        "X-Twilio-Signature": sign(url, form, token),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return urlencode(form), headers


def twiml_bodies(xml: str) -> list[str]:
    """The text of each `<Message>` in a TwiML answer."""
    root = ElementTree.fromstring(xml)
    return [message.findtext("Body") or "" for message in root.findall("Message")]


def rasa_texts(payload: object) -> list[str]:
    """The text of each message in a REST channel answer (images count as messages)."""
    if not isinstance(payload, list):
        raise ValueError("the REST channel answers with a list")
    return [
        str(item.get("text") or item.get("image"))
        for item in payload
        if isinstance(item, dict) and (item.get("text") or item.get("image"))
    ]


class Target(Protocol):
    """Where turns go: the gateway or Rasa directly."""

    name: str

    async def send(self, client: httpx.AsyncClient, person: Person, turn: ScriptTurn) -> str:
        """Send one turn; return the raw answer (raises httpx errors, HTTPStatusError)."""
        ...

    def replies(self, answer: str) -> list[str]:
        """The messages an answer holds (ValueError when it cannot be read)."""
        ...


class GatewayTarget:
    """The gateway's WhatsApp webhook, every request signed with the Twilio auth token."""

    name = "gateway"

    def __init__(self, base_url: str, *, auth_token: str) -> None:
        self.url = require_loopback(base_url.rstrip("/")) + "/twilio/whatsapp"
        self._token = auth_token

    async def send(self, client: httpx.AsyncClient, person: Person, turn: ScriptTurn) -> str:
        """POST the turn as Twilio would; the answer is TwiML."""
        body, headers = signed_webhook(
            self.url, whatsapp_form(turn.text, sender=person.phone), self._token
        )
        response = await client.post(self.url, content=body, headers=headers)
        response.raise_for_status()
        return response.text

    def replies(self, answer: str) -> list[str]:
        """The bodies of the TwiML's messages."""
        try:
            return twiml_bodies(answer)
        except ElementTree.ParseError as error:
            raise ValueError(str(error)) from error


class RasaTarget:
    """Rasa's REST channel, given what the gateway would give it."""

    name = "rasa"

    def __init__(self, base_url: str) -> None:
        self.url = require_loopback(base_url.rstrip("/")) + "/webhooks/rest/webhook"

    async def send(self, client: httpx.AsyncClient, person: Person, turn: ScriptTurn) -> str:
        """POST {sender, message, metadata} as the gateway's Rasa client does."""
        metadata = {"channel": "whatsapp", "language": person.script.language}
        response = await client.post(
            self.url,
            json={"sender": person.sender, "message": turn.rasa_text, "metadata": metadata},
        )
        response.raise_for_status()
        return response.text

    def replies(self, answer: str) -> list[str]:
        """The texts of the JSON answer."""
        return rasa_texts(json.loads(answer))


@dataclass(frozen=True)
class TurnResult:
    """One turn as the person experienced it."""

    target: str
    script: str
    kind: str
    path: str
    outcome: str  # one of OUTCOMES
    latency_ms: float
    status: int | None = None  # the HTTP status when the answer was not 200
    replies: tuple[str, ...] = ()


@dataclass(frozen=True)
class LevelRun:
    """Every turn of one target at one concurrency level, and how long the level took."""

    target: str
    level: int
    elapsed_s: float
    results: tuple[TurnResult, ...]


def judge(turn: ScriptTurn, replies: list[str]) -> str:
    """'ok', or 'lost' without any message, or 'wrong' for a crisis reply without 14416."""
    if not replies:
        return "lost"
    if turn.path == "crisis" and not any(CRISIS_NUMBER in reply for reply in replies):
        return "wrong"
    return "ok"


async def play_turn(
    client: httpx.AsyncClient, target: Target, person: Person, turn: ScriptTurn
) -> TurnResult:
    """Send one turn and time it until the whole answer has arrived."""
    started = time.perf_counter()
    status: int | None = None
    replies: list[str] = []
    try:
        answer = await target.send(client, person, turn)
        outcome = "ok"
    except httpx.TimeoutException:
        outcome = "timeout"
    except httpx.HTTPStatusError as error:
        outcome, status = "error", error.response.status_code
    except httpx.HTTPError:
        outcome = "error"
    latency_ms = 1000 * (time.perf_counter() - started)
    if outcome == "ok":
        try:
            replies = target.replies(answer)
            outcome = judge(turn, replies)
        except ValueError:
            outcome = "error"
    return TurnResult(
        target=target.name,
        script=person.script.name,
        kind=turn.kind,
        path=turn.path,
        outcome=outcome,
        latency_ms=latency_ms,
        status=status,
        replies=tuple(replies),
    )


async def run_level(
    target: Target | tuple[Target, ...],
    *,
    level: int,
    people: Iterator[Person],
    turns: int,
    max_seconds: float,
    timeout: float,
) -> LevelRun:
    """Play conversations with `level` people at once until `turns` or `max_seconds` run out.

    Args:
        target: where the turns go. With several, the people drawn from the line go to
            them in turn, so that they share the same moments of the machine's load: a
            paired comparison. Give such a run a line that repeats each script once per
            target (see `paired`), so that every script goes to every target.
        level: how many people talk at once.
        people: the line of people (shared between levels, so every number is new).
        turns: the turn budget; a new conversation starts only while some is left, but
            every worker plays at least one.
        max_seconds: no turn starts after this; turns under way finish.
        timeout: seconds one turn may take before it counts as a timeout (Twilio gives 15).
    """
    targets = target if isinstance(target, tuple) else (target,)
    if not targets or level < 1 or turns < 1 or max_seconds <= 0 or timeout <= 0:
        raise ValueError("a target; level, turns, max_seconds and timeout must be positive")
    results: list[TurnResult] = []
    reserved = drawn = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    limits = httpx.Limits(max_connections=level, max_keepalive_connections=level)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal reserved, drawn
        first = True
        # A paired run ends on whole pairs, time permitting.
        while first or (loop.time() < deadline and (reserved < turns or drawn % len(targets))):
            first = False
            person, where = next(people), targets[drawn % len(targets)]
            drawn += 1
            reserved += len(person.script.turns)
            for turn in person.script.turns:
                if loop.time() >= deadline:
                    return
                results.append(await play_turn(client, where, person, turn))

    async with httpx.AsyncClient(timeout=timeout, limits=limits, trust_env=False) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(level)))
        elapsed = time.perf_counter() - started
    name = "+".join(t.name for t in targets)
    return LevelRun(target=name, level=level, elapsed_s=elapsed, results=tuple(results))


def only(run: LevelRun, target: str) -> LevelRun:
    """The turns of one target in a paired run (same wall time)."""
    return LevelRun(
        target=target,
        level=run.level,
        elapsed_s=run.elapsed_s,
        results=tuple(r for r in run.results if r.target == target),
    )


async def play_alone(
    target: Target, *, people: list[Person], timeout: float
) -> tuple[TurnResult, ...]:
    """Each person's script, one turn at a time and one person after another."""
    results = []
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        for person in people:
            for turn in person.script.turns:
                results.append(await play_turn(client, target, person, turn))
    return tuple(results)
