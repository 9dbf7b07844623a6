"""Fault tests on the production shape: two gateways and two Rasa replicas behind the
balancers, one action server behind a proxy whose delay the tests set, on this machine's
PostgreSQL and Redis servers (fresh databases) — except the test that stops PostgreSQL,
which runs the same shape on a server of its own, so that stopping it troubles no one else.

Each test sends a burst of WhatsApp messages while something fails, then waits for the
system to recover by itself, and checks on the raw tables that no inbound message was
lost, none was processed twice (Rasa's tracker holds each message's `sahay_ref` once),
crisis messages got the crisis reply, and everything ended answered or with a counsellor.
The figures are printed, and written to docs/fault-report.md by `make fault-report`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bot.cluster import Cluster, Topology, start_cluster, wait_until_ready
from bot.core.config import PROJECT_ROOT, Settings
from bot.responses import get_catalogue
from bot.storage.crypto import phone_key
from tests.conftest import (
    free_port,
    fresh_postgres_databases,
    make_settings,
    post_signed,
    whatsapp_form,
)
from tests.fake_twilio import FakeTwilio, fake_twilio
from tests.production.conftest import PrivatePostgres, PrivateRedis
from tests.production.servers import ThreadServer
from tests.production.test_tracker_privacy import converse_then_erase

MACHINE_REDIS = os.environ.get("SAHAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")

pytestmark = [pytest.mark.fault, pytest.mark.integration, pytest.mark.timeout(300)]

ORDINARY = [
    "I need help with my ration card",
    "how do I get an Ayushman card",
    "my employer has not paid my wages",
    "what is e-Shram",
]
CRISIS = "I want to kill myself"
SETTLE_SECONDS = 75.0
REPORT: dict[str, dict[str, object]] = {}


class DelayProxy:
    """Stands between Rasa and the action server; `delay` seconds added to every call."""

    def __init__(self, upstream: str, port: int) -> None:
        self.delay = 0.0
        self.upstream = upstream

        async def forward(request: Request) -> Response:
            await asyncio.sleep(self.delay)
            async with httpx.AsyncClient(timeout=120) as client:
                answer = await client.request(
                    request.method,
                    self.upstream + request.url.path,
                    content=await request.body(),
                    headers={"content-type": request.headers.get("content-type", "")},
                )

            async def body() -> AsyncIterator[bytes]:
                yield answer.content

            return StreamingResponse(
                body(),
                status_code=answer.status_code,
                media_type=answer.headers.get("content-type"),
            )

        app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
        self.server = ThreadServer(app, port)


@dataclass
class Running:
    cluster: Cluster
    url: str
    database_url: str
    tracker_url: str
    twilio: FakeTwilio
    actions: DelayProxy
    fallback: str
    settings: Settings
    postgres: PrivatePostgres | None = None  # a server of the test's own, to stop
    people: Iterator[int] = field(default_factory=lambda: iter(range(10_000)))


@contextlib.contextmanager
def _cluster(
    tmp: Path, *, app_db: str, tracker_db: str, redis_url: str, postgres: PrivatePostgres | None
) -> Iterator[Running]:
    model = PROJECT_ROOT / "models" / "sahay.tar.gz"
    if not model.exists():
        pytest.fail("no trained model: run the tests through `make test`, which trains it")
    with fake_twilio() as twilio:
        settings = make_settings(
            tmp,
            DATABASE_URL=app_db,
            TRACKER_URL=tracker_db,
            REDIS_URL=redis_url,
            RASA_TIMEOUT_SECONDS="4",
            SAHAY_REDRIVE_SECONDS="1",
            SAHAY_SPOOL_DIR=str(tmp / "spool"),
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
            TWILIO_API_BASE_URL=twilio.url,
        )
        topology = Topology(
            balancer_port=free_port(),
            gateway_ports=[free_port(), free_port()],
            rasa_balancer_port=free_port(),
            rasa_ports=[free_port(), free_port()],
            action_port=free_port(),
            action_listen_port=free_port(),
        )
        # The delay proxy stands at the action server's address, the server behind it.
        proxy = DelayProxy(f"http://127.0.0.1:{topology.action_listen_port}", topology.action_port)
        proxy.server.start()
        # A killed replica's lock on a person expires sooner than in production.
        os.environ["TICKET_LOCK_LIFETIME"] = "15"
        try:
            cluster = start_cluster(settings, topology, log_dir=tmp / "logs")
        finally:
            del os.environ["TICKET_LOCK_LIFETIME"]
        try:
            if not wait_until_ready(cluster, timeout=240):
                logs = "\n".join(
                    f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
                    for log in sorted((tmp / "logs").glob("*.log"))
                )
                pytest.fail(f"the cluster did not become ready:\n{logs}")
            yield Running(
                cluster=cluster,
                url=topology.public_url,
                database_url=app_db,
                tracker_url=tracker_db,
                twilio=twilio,
                actions=proxy,
                fallback=get_catalogue().render("utter_service_unavailable", "en"),
                settings=settings,
                postgres=postgres,
            )
        finally:
            cluster.stop()
            proxy.server.stop()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The production shape on this machine's own PostgreSQL and Redis servers (fresh
    databases, dropped afterwards; a Redis database of the tests' own)."""
    try:
        with (
            fresh_postgres_databases("sahay_fault", "tracker_fault") as (app_db, tracker_db),
            _cluster(
                tmp_path_factory.mktemp("cluster"),
                app_db=app_db,
                tracker_db=tracker_db,
                redis_url=MACHINE_REDIS,
                postgres=None,
            ) as shape,
        ):
            yield shape
    finally:
        _write_report()


@pytest.fixture(scope="module")
def running_private(
    private_postgres: PrivatePostgres,
    private_redis: PrivateRedis,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Running]:
    """The same shape on a PostgreSQL server of the test's own, which the test stops
    (stopping the machine's would break every other test running beside it)."""
    suffix = secrets.token_hex(3)
    with _cluster(
        tmp_path_factory.mktemp("cluster-private"),
        app_db=private_postgres.create_database(f"sahay_{suffix}"),
        tracker_db=private_postgres.create_database(f"tracker_{suffix}"),
        redis_url=private_redis.url,
        postgres=private_postgres,
    ) as shape:
        yield shape


@dataclass
class Burst:
    """What a burst sent and what came back directly."""

    sent: dict[str, tuple[str, str]] = field(default_factory=dict)  # sid -> (person, text)
    replies: dict[str, list[str]] = field(default_factory=dict)  # sid -> TwiML bodies
    errors: list[str] = field(default_factory=list)


def send_burst(
    running: Running,
    *,
    people: int,
    messages_each: int,
    crisis_every: int = 0,
    during: Callable[[], None] | None = None,
    after_messages: int = 0,
) -> Burst:
    """People writing at once (each person in order); `during` runs once mid-burst."""
    burst = Burst()
    lock = threading.Lock()
    counter = {"sent": 0}
    fired = threading.Event()
    numbers = [f"+9190{next(running.people):08d}" for _ in range(people)]

    def person(index: int, number: str) -> None:
        with httpx.Client(timeout=30) as client:
            for turn in range(messages_each):
                crisis = crisis_every and (index % crisis_every == 0) and turn == 0
                body = CRISIS if crisis else ORDINARY[(index + turn) % len(ORDINARY)]
                form = whatsapp_form(body, sender=number)
                sid = form["MessageSid"]
                with lock:
                    burst.sent[sid] = (number, body)
                    counter["sent"] += 1
                    fire = (
                        during is not None
                        and not fired.is_set()
                        and counter["sent"] >= after_messages
                    )
                    if fire:
                        fired.set()
                if fire:
                    assert during is not None
                    during()
                try:
                    response = post_signed(client, f"{running.url}/twilio/whatsapp", form)
                    if response.status_code != 200:
                        burst.errors.append(f"{response.status_code} {response.text[:80]}")
                        burst.replies[sid] = []
                        continue
                    root = ElementTree.fromstring(response.text)
                    burst.replies[sid] = [m.findtext("Body") or "" for m in root.iter("Message")]
                except httpx.HTTPError as error:
                    burst.errors.append(type(error).__name__)
                    burst.replies[sid] = []

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda pair: person(*pair), enumerate(numbers)))
    return burst


def _rows(url: str, query: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query), params)]
    finally:
        engine.dispose()


def settle(running: Running, burst: Burst) -> dict[str, str]:
    """Wait until every message of the burst is concluded; their final statuses by sid."""
    deadline = time.monotonic() + SETTLE_SECONDS
    sids = list(burst.sent)
    final: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            rows = _rows(
                running.database_url,
                "SELECT twilio_sid, delivery_status FROM messages WHERE direction = 'in' "
                "AND twilio_sid = ANY(:sids)",
                sids=sids,
            )
        except Exception:  # the database may still be coming back
            time.sleep(1)
            continue
        final = {str(sid): str(status) for sid, status in rows}
        if len(final) == len(sids) and all(
            status in ("answered", "answered_late", "handed_over") for status in final.values()
        ):
            return final
        time.sleep(1)
    return final


def figures(running: Running, burst: Burst, final: dict[str, str]) -> dict[str, object]:
    """The counts the acceptance asks for, read from the raw tables."""
    stored = _rows(
        running.database_url,
        "SELECT twilio_sid, count(*) FROM messages WHERE twilio_sid = ANY(:sids) GROUP BY 1",
        sids=list(burst.sent),
    )
    per_sid = {str(sid): int(count) for sid, count in stored}  # type: ignore[call-overload]
    tracker = _rows(
        running.tracker_url,
        "SELECT data FROM events WHERE type_name = 'user'",
    )
    refs = Counter(
        (json.loads(str(data)).get("metadata") or {}).get("sahay_ref") for (data,) in tracker
    )
    processed_twice = sorted(sid for sid in burst.sent if refs.get(sid, 0) > 1)
    degraded = [sid for sid, bodies in burst.replies.items() if running.fallback in bodies]
    crisis_sids = [sid for sid, (_, body) in burst.sent.items() if body == CRISIS]
    crisis_answered = [
        sid for sid in crisis_sids if any("14416" in body for body in burst.replies.get(sid, []))
    ]
    return {
        "sent": len(burst.sent),
        "stored": sum(1 for sid in burst.sent if per_sid.get(sid, 0) >= 1),
        "lost": sum(1 for sid in burst.sent if per_sid.get(sid, 0) == 0),
        "stored_twice": sum(1 for sid in burst.sent if per_sid.get(sid, 0) > 1),
        "processed_twice_by_rasa": len(processed_twice),
        "answered_directly": sum(1 for s in final.values() if s == "answered"),
        "answered_late_after_fallback": sum(1 for s in final.values() if s == "answered_late"),
        "handed_to_counsellor": sum(1 for s in final.values() if s == "handed_over"),
        "not_concluded": len(burst.sent)
        - sum(1 for s in final.values() if s in ("answered", "answered_late", "handed_over")),
        "fallback_replies_while_degraded": len(degraded),
        "crisis_messages": len(crisis_sids),
        "crisis_replies_sent": len(crisis_answered),
        "http_errors": len(burst.errors),
        "statuses": dict(Counter(final.values())),
    }


def check(name: str, result: dict[str, object], seconds: float) -> None:
    result["seconds"] = round(seconds, 1)
    REPORT[name] = result
    print(f"\n{name}: {json.dumps(result)}")
    assert result["lost"] == 0
    assert result["stored_twice"] == 0
    assert result["processed_twice_by_rasa"] == 0
    assert result["not_concluded"] == 0
    assert result["crisis_replies_sent"] == result["crisis_messages"]
    assert result["http_errors"] == 0


def test_a_rasa_replica_killed_during_a_burst(running: Running) -> None:
    started = time.monotonic()
    running.actions.delay = 1.0  # turns last a second: the kill finds some of them running
    burst = send_burst(
        running,
        people=10,
        messages_each=2,
        crisis_every=5,
        during=lambda: running.cluster.kill("rasa-1"),
        after_messages=6,
    )
    running.actions.delay = 0.0
    running.cluster.restart("rasa-1")  # as a supervisor (or Kubernetes) would
    final = settle(running, burst)
    check(
        "Rasa replica killed mid-burst", figures(running, burst, final), time.monotonic() - started
    )


def test_postgres_stopped_for_a_moment(running_private: Running) -> None:
    running = running_private
    postgres = running.postgres
    assert postgres is not None
    started = time.monotonic()

    def outage() -> None:
        postgres.stop()
        threading.Timer(6.0, postgres.start).start()

    burst = send_burst(
        running, people=10, messages_each=3, crisis_every=5, during=outage, after_messages=8
    )
    final = settle(running, burst)
    result = figures(running, burst, final)
    check("PostgreSQL stopped for 6 s", result, time.monotonic() - started)
    assert result["fallback_replies_while_degraded"] or result["crisis_messages"]


def test_the_action_server_slower_than_the_deadline(running: Running) -> None:
    started = time.monotonic()
    running.actions.delay = 7.0  # the gateway's deadline is 4 s

    def recover() -> None:
        threading.Timer(8.0, lambda: setattr(running.actions, "delay", 0.0)).start()

    burst = send_burst(
        running, people=6, messages_each=2, crisis_every=3, during=recover, after_messages=1
    )
    final = settle(running, burst)
    running.actions.delay = 0.0
    result = figures(running, burst, final)
    check("action server slower than the deadline", result, time.monotonic() - started)
    assert result["fallback_replies_while_degraded"]


def test_postgres_tracker_holds_no_number_and_is_emptied_by_erasure(running: Running) -> None:
    number = f"+9191{next(running.people):08d}"
    key = phone_key(number, secret=running.settings.phone_hash_key)

    def send(body: str) -> list[str]:
        response = post_signed(
            httpx, f"{running.url}/twilio/whatsapp", whatsapp_form(body, sender=number)
        )
        assert response.status_code == 200
        return [
            m.findtext("Body") or "" for m in ElementTree.fromstring(response.text).iter("Message")
        ]

    converse_then_erase(send, running.tracker_url, running.database_url, number, key)


def _write_report() -> None:
    target = os.environ.get("SAHAY_FAULT_REPORT")
    if not target or not REPORT:
        return
    lines = [
        "# Fault report",
        "",
        "Written by `make fault-report` (the fault tests in `tests/production/test_faults.py`,",
        "also part of `make test`): two gateway and two Rasa replicas behind the local",
        "balancers, one action server behind a delay proxy, on this 2-core machine's own",
        "PostgreSQL and Redis servers (fresh databases) — the PostgreSQL outage on a server",
        "the test starts for itself. WhatsApp messages are signed as Twilio signs them; each",
        "simulated person writes in order, six at a time. Counts come from the raw tables:",
        "`messages` (app) and `events` (Rasa's tracker store).",
        "",
    ]
    columns = [
        ("sent", "sent"),
        ("lost", "lost"),
        ("stored_twice", "stored twice"),
        ("processed_twice_by_rasa", "processed twice by Rasa"),
        ("answered_directly", "answered at once"),
        ("fallback_replies_while_degraded", "fallback while degraded"),
        ("answered_late_after_fallback", "answered after a retry"),
        ("handed_to_counsellor", "to a counsellor"),
        ("crisis_messages", "crisis messages"),
        ("crisis_replies_sent", "crisis replies"),
        ("seconds", "seconds"),
    ]
    lines.append("| fault | " + " | ".join(label for _, label in columns) + " |")
    lines.append("|---|" + "---|" * len(columns))
    for name, result in REPORT.items():
        lines.append(f"| {name} | " + " | ".join(str(result[key]) for key, _ in columns) + " |")
    lines += [
        "",
        "- *fallback while degraded*: the person got the apology with Tele-MANAS 14416 and 112",
        "  in their language at once; the message was kept and answered later by a retry",
        "  (*answered after a retry*) or given to a counsellor.",
        "- Crisis messages are answered by the gateway's own detector, with or without Rasa",
        "  and the database.",
    ]
    Path(target).write_text("\n".join(lines) + "\n")
