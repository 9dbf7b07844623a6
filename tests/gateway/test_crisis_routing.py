"""The crisis path in the gateway: before routing, in every state, with Rasa up or down."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from xml.etree import ElementTree

import pytest

from bot.main import HANDLER_THREADS
from tests.conftest import post_signed, whatsapp_form
from tests.gateway.conftest import Gateway

URL = "http://testserver/twilio/whatsapp"
SENDER = "+919800033333"


def send(gateway: Gateway, text: str) -> list[str]:
    response = post_signed(gateway.client, URL, whatsapp_form(text, sender=SENDER))
    assert response.status_code == 200
    return [
        m.findtext("Body") or "" for m in ElementTree.fromstring(response.text).findall("Message")
    ]


def query(gateway: Gateway, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(gateway.settings.database_url.removeprefix("sqlite:///")) as db:
        return db.execute(sql).fetchall()


@pytest.mark.parametrize("rasa_down", [False, True])
def test_a_crisis_message_gets_the_crisis_reply_and_an_urgent_handoff(
    gateway: Gateway, rasa_down: bool
) -> None:
    gateway.rasa.down = rasa_down
    [reply] = send(gateway, "I want to kill myself")

    assert "14416" in reply and "112" in reply
    assert gateway.rasa.turns == []
    assert query(gateway, "SELECT priority, state, reason FROM handoffs") == [
        ("urgent", "queued", "crisis:suicide")
    ]
    [(category, risk, rule)] = query(
        gateway,
        "SELECT crisis_category, crisis_risk, crisis_rule FROM messages WHERE direction='in'",
    )
    assert category == "suicide" and risk in {"high", "imminent"} and rule
    assert query(gateway, "SELECT state FROM conversations") == [("queued",)]


def test_danger_gets_the_danger_reply(gateway: Gateway) -> None:
    [reply] = send(gateway, "they locked us in the room and took our phones")
    assert "112" in reply
    assert query(gateway, "SELECT reason FROM handoffs") == [("crisis:danger",)]


def test_crisis_reply_comes_in_the_persons_language(gateway: Gateway) -> None:
    [reply] = send(gateway, "মরে যেতে ইচ্ছে করছে")
    assert "14416" in reply
    assert any("\u0980" <= ch <= "\u09ff" for ch in reply), reply


def test_while_queued_messages_stay_away_from_rasa(gateway: Gateway) -> None:
    send(gateway, "I want to kill myself")
    assert send(gateway, "please answer") == []  # a reply went out moments ago
    assert gateway.rasa.turns == []
    [(count,)] = query(gateway, "SELECT count(*) FROM messages WHERE direction='in'")
    assert count == 2


def test_a_second_crisis_message_raises_no_second_handoff(gateway: Gateway) -> None:
    send(gateway, "I want to kill myself")
    [reply] = send(gateway, "I am going to kill myself tonight")
    assert "14416" in reply
    assert query(gateway, "SELECT count(*) FROM handoffs") == [(1,)]


@pytest.mark.parametrize(
    "text", ["my father died, I need his death certificate", "these mosquitoes are killing me"]
)
def test_hard_negatives_go_to_the_bot(gateway: Gateway, text: str) -> None:
    send(gateway, text)
    assert query(gateway, "SELECT count(*) FROM handoffs") == [(0,)]
    assert len(gateway.rasa.turns) == 1


def test_a_waiting_person_is_told_their_place_in_the_queue(gateway: Gateway) -> None:
    send(gateway, "I want to kill myself")
    with sqlite3.connect(gateway.settings.database_url.removeprefix("sqlite:///")) as db:
        db.execute("UPDATE messages SET created_at = datetime('now', '-10 minutes')")
    replies = send(gateway, "is anyone there")
    assert len(replies) == 2
    assert "112" in replies[0]
    assert "number 1 in the queue" in replies[1]
    assert gateway.rasa.turns == []


def test_after_the_handoff_closes_the_bot_is_resumed_and_answers(gateway: Gateway) -> None:
    send(gateway, "I want to kill myself")
    assert gateway.rasa.paused  # the crisis handoff paused Rasa for this person
    with sqlite3.connect(gateway.settings.database_url.removeprefix("sqlite:///")) as db:
        db.execute("UPDATE handoffs SET state = 'closed'")
        db.execute("UPDATE conversations SET state = 'bot'")
    send(gateway, "thank you, I feel safer now")
    assert not gateway.rasa.paused
    assert gateway.rasa.turns[-1]["text"] == "thank you, I feel safer now"


def test_a_crisis_is_answered_while_more_people_than_fastapis_40_threads_wait_for_rasa(
    gateway: Gateway,
) -> None:
    release = threading.Event()
    original = gateway.rasa.send

    def slow_send(**kwargs: object) -> object:
        release.wait(timeout=30)  # Rasa busy with everyone's turn
        return original(**kwargs)  # type: ignore[arg-type]

    gateway.rasa.send = slow_send  # type: ignore[method-assign]
    waiting = 45
    assert waiting < HANDLER_THREADS
    with ThreadPoolExecutor(max_workers=waiting + 1) as pool:
        busy = [
            pool.submit(
                post_signed,
                gateway.client,
                URL,
                whatsapp_form("hello, what is e-shram", sender=f"+91980004{i:04d}"),
            )
            for i in range(waiting)
        ]
        deadline = time.monotonic() + 10  # until FastAPI's default 40 threads are taken
        while sum("AnyIO" in t.name for t in threading.enumerate()) < 40:
            assert time.monotonic() < deadline, "the handlers did not start"
            time.sleep(0.05)
        time.sleep(0.5)
        try:
            crisis = pool.submit(post_signed, gateway.client, URL, whatsapp_form("I want to die"))
            response = crisis.result(timeout=10)  # no free thread: TimeoutError
        finally:
            release.set()
        assert response.status_code == 200
        assert "14416" in response.text
        assert all(f.result(timeout=30).status_code == 200 for f in busy)
