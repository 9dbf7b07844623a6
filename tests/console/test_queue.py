"""Queue order, who sees what, and a waiting person's position."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from bot.handoff.queue import DEFAULT_HANDLING_TIME, open_queue, queue_position
from bot.storage.db import session_scope
from bot.storage.models import Counsellor, Handoff, utcnow
from tests.console.conftest import Console, counsellor, make_case, sign_in, token


def test_an_urgent_bengali_case_comes_above_an_older_normal_one(console: Console) -> None:
    counsellor(console, "asha", languages=("bn", "hi"))
    older_normal = make_case(console, phone="+919800000001", age=dt.timedelta(minutes=40))
    high = make_case(
        console, phone="+919800000002", priority="high", language="hi", age=dt.timedelta(minutes=5)
    )
    urgent = make_case(
        console,
        phone="+919800000003",
        priority="urgent",
        reason="crisis:suicide",
        crisis="suicide",
        text="মরে যেতে ইচ্ছে করছে",
    )
    newer_normal = make_case(console, phone="+919800000004", age=dt.timedelta(minutes=1))

    api = console.client.get("/api/queue", headers=token(console.client, "asha")).json()
    assert [item["handoff_id"] for item in api] == [urgent, high, older_normal, newer_normal]
    assert api[0]["priority"] == "urgent" and api[0]["language"] == "bn"
    assert api[2]["waiting_seconds"] >= 40 * 60

    sign_in(console.client, "asha")
    page = console.client.get("/console/queue").text
    order = [int(n) for n in re.findall(r'data-handoff="(\d+)"', page)]
    assert order == [urgent, high, older_normal, newer_normal]


def test_counsellors_see_their_languages_and_cases_in_no_language(console: Console) -> None:
    hindi_only = counsellor(console, "ravi", languages=("hi",))
    bengali = make_case(console, phone="+919800000001", language="bn")
    unknown = make_case(console, phone="+919800000002", language=None)
    hindi = make_case(console, phone="+919800000003", language="hi")
    assigned_elsewhere = make_case(
        console,
        phone="+919800000004",
        language="hi",
        assigned_to=counsellor(console, "meena", languages=("hi",)),
    )
    assigned_to_ravi = make_case(
        console, phone="+919800000005", language="ta", assigned_to=hindi_only
    )
    with session_scope(console.url) as session:
        ravi = session.get_one(Counsellor, hindi_only)
        seen = {entry.handoff_id for entry in open_queue(session=session, counsellor=ravi)}
    assert seen == {unknown, hindi, assigned_to_ravi}
    assert bengali not in seen and assigned_elsewhere not in seen


def test_peer_supporters_see_only_cases_assigned_to_them(console: Console) -> None:
    peer = counsellor(console, "kiran", role="peer_supporter", languages=("bn",))
    make_case(console, phone="+919800000001", language="bn")
    mine = make_case(console, phone="+919800000002", language="bn", assigned_to=peer)
    api = console.client.get("/api/queue", headers=token(console.client, "kiran")).json()
    assert [item["handoff_id"] for item in api] == [mine]
    assert api[0]["assigned_to_me"] is True


def test_supervisors_see_every_open_case(console: Console) -> None:
    counsellor(console, "sunita", role="supervisor", languages=())
    cases = {
        make_case(console, phone=f"+91980000000{i}", language=lang)
        for i, lang in enumerate(("bn", "ta", None))
    }
    api = console.client.get("/api/queue", headers=token(console.client, "sunita")).json()
    assert {item["handoff_id"] for item in api} == cases


def test_position_and_expected_wait(console: Console) -> None:
    counsellor(console, "asha", languages=("bn",))
    first = make_case(console, phone="+919800000001", age=dt.timedelta(minutes=9))
    second = make_case(console, phone="+919800000002", age=dt.timedelta(minutes=3))
    other_language = make_case(
        console, phone="+919800000003", language="ta", age=dt.timedelta(minutes=30)
    )
    with session_scope(console.url) as session:
        one = queue_position(session=session, handoff_id=first)
        two = queue_position(session=session, handoff_id=second)
        tamil = queue_position(session=session, handoff_id=other_language)
    assert one is not None and two is not None and tamil is not None
    assert (one.position, two.position, tamil.position) == (1, 2, 1)
    # Nothing closed recently: the default handling time; one Bengali counsellor.
    assert one.expected_wait == DEFAULT_HANDLING_TIME
    assert two.expected_wait == 2 * DEFAULT_HANDLING_TIME
    assert tamil.counsellors == 0

    # An urgent case jumps the line; recently closed cases set the handling time.
    urgent = make_case(console, phone="+919800000004", priority="urgent")
    with session_scope(console.url) as session:
        done = session.get_one(Handoff, other_language)
        done.state, done.claimed_at = "closed", utcnow() - dt.timedelta(minutes=24)
        done.closed_at = utcnow()
    with session_scope(console.url) as session:
        assert queue_position(session=session, handoff_id=urgent).position == 1  # type: ignore[union-attr]
        moved = queue_position(session=session, handoff_id=first)
        assert moved is not None and moved.position == 2
        assert abs(moved.expected_wait - dt.timedelta(minutes=48)) < dt.timedelta(seconds=5)
        assert queue_position(session=session, handoff_id=other_language) is None
        assert session.scalar(select(Handoff.state).where(Handoff.id == first)) == "queued"
