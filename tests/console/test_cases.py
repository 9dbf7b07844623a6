"""Working a case: claim, summary, reply, template, notes, transfer, close, live events, audit."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.handoff.summary import TrackerFacts, read_tracker, tracker_facts
from bot.storage.crypto import decrypt, encrypt
from bot.storage.db import session_scope
from bot.storage.models import (
    AuditEntry,
    CaseNote,
    Handoff,
    Message,
    utcnow,
)
from tests.conftest import free_port
from tests.console.conftest import (
    Console,
    build,
    counsellor,
    make_case,
    sign_in,
    token,
)
from tests.fake_twilio import fake_twilio


def _audit(console: Console, handoff_id: int) -> list[tuple[str, str]]:
    with session_scope(console.url) as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.action)
            .where(AuditEntry.target_type == "handoff", AuditEntry.target_id == handoff_id)
            .order_by(AuditEntry.id)
        ).all()
    return [(actor, action) for actor, action in rows]


def test_two_simultaneous_claims_one_wins(console: Console) -> None:
    counsellor(console, "asha")
    counsellor(console, "bina")
    case = make_case(console, phone="+919800000001")
    headers = {name: token(console.client, name) for name in ("asha", "bina")}
    start = threading.Barrier(2)
    results: dict[str, int] = {}

    def claim(name: str) -> None:
        start.wait()
        response = console.client.post(f"/api/cases/{case}/claim", headers=headers[name])
        results[name] = response.status_code

    threads = [threading.Thread(target=claim, args=(name,)) for name in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == [200, 409]
    winner = next(name for name, code in results.items() if code == 200)
    loser = next(name for name, code in results.items() if code == 409)
    with session_scope(console.url) as session:
        handoff = session.get_one(Handoff, case)
        assert handoff.state == "claimed"
        assert [e.to_state for e in handoff.events] == ["queued", "claimed"]
    trail = _audit(console, case)
    assert (winner, "case.claim") in trail and (loser, "case.claim.refused") in trail


def test_the_summary_tells_the_story_once(console: Console) -> None:
    counsellor(console, "asha")
    case = make_case(
        console,
        phone="+919800000001",
        priority="urgent",
        reason="crisis:suicide",
        crisis="suicide",
        text="মরে যেতে ইচ্ছে করছে",
    )
    summary = console.client.get(
        f"/api/cases/{case}/summary", headers=token(console.client, "asha")
    ).json()
    assert summary["language"] == "bn" and summary["language_name"] == "Bengali"
    assert summary["channel"] == "simulator" and summary["district"] == "Malda"
    assert summary["priority"] == "urgent" and summary["reason"] == "crisis:suicide"
    assert [f["category"] for f in summary["crisis_flags"]] == ["suicide"]
    assert summary["intents"] == ["ask_ration"] and summary["rasa_status"] == "ok"
    assert summary["recent_messages"][0]["text"] == "মরে যেতে ইচ্ছে করছে"
    assert console.tracker.asked  # asked Rasa's tracker for this person

    console.tracker.facts = TrackerFacts(status="unreachable")
    sign_in(console.client, "asha")
    page = console.client.get(f"/console/cases/{case}").text
    assert "Rasa unreachable" in page and "মরে যেতে ইচ্ছে করছে" in page


def test_tracker_reading() -> None:
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    before, after = since.timestamp() - 60, since.timestamp() + 60
    tracker = {
        "slots": {"district": None},
        "events": [
            {"event": "user", "timestamp": before, "parse_data": {"intent": {"name": "greet"}}},
            {
                "event": "user",
                "timestamp": after,
                "parse_data": {
                    "intent": {"name": "ask_ration"},
                    "entities": [{"entity": "district", "value": "Malda"}],
                },
            },
            {"event": "bot", "timestamp": after},
            {"event": "user", "timestamp": after, "parse_data": {"intent": {"name": "ask_ration"}}},
            {"event": "user", "timestamp": after, "parse_data": {"intent": {"name": "ask_wages"}}},
        ],
    }
    facts = tracker_facts(tracker, since=since)
    assert facts == TrackerFacts(status="ok", intents=("ask_ration", "ask_wages"), district="Malda")
    assert tracker_facts({"events": []}, since=since).status == "no_conversation"
    nobody = read_tracker(
        rasa_url=f"http://127.0.0.1:{free_port()}",
        token="t",
        sender="abc",
        since=since,
        timeout=0.5,
    )
    assert nobody.status == "unreachable"


def test_claim_reply_and_close_hand_the_person_back_to_the_bot(console: Console) -> None:
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000001")
    csrf = sign_in(console.client, "asha")
    htmx = {"HX-Request": "true"}
    assert "Claim this case" in console.client.get(f"/console/cases/{case}").text

    claimed = console.client.post(
        f"/console/cases/{case}/claim", data={"csrf_token": csrf}, headers=htmx
    )
    assert claimed.status_code == 200 and "The case is yours" in claimed.text
    assert 'id="reply-text"' in claimed.text

    replied = console.client.post(
        f"/console/cases/{case}/reply",
        data={"csrf_token": csrf, "text": "আমি আছি, বলুন"},
        headers=htmx,
    )
    assert replied.status_code == 200 and "Reply sent." in replied.text
    assert "আমি আছি, বলুন" in replied.text
    with session_scope(console.url) as session:
        handoff = session.get_one(Handoff, case)
        assert handoff.state == "active"
        assert handoff.conversation.state == "with_counsellor"
        sent = session.scalars(
            select(Message).where(
                Message.conversation_id == handoff.conversation_id, Message.direction == "out"
            )
        ).one()
        assert sent.author == "counsellor" and sent.delivery_status == "delivered"
        assert decrypt(sent.body_encrypted, key=console.settings.encryption_key) == "আমি আছি, বলুন"
        sender = handoff.conversation.contact.phone_key
    # The simulated person receives it, as WhatsApp would deliver it.
    outbox = console.client.get("/simulator/outbox", params={"phone": "+919800000001"}).json()
    assert [m["text"] for m in outbox] == ["আমি আছি, বলুন"]

    closed = console.client.post(
        f"/console/cases/{case}/close",
        data={"csrf_token": csrf, "outcome": "supported"},
        headers=htmx,
    )
    assert closed.status_code == 200 and "Case closed." in closed.text
    assert console.rasa.resumed == [sender]
    with session_scope(console.url) as session:
        handoff = session.get_one(Handoff, case)
        assert (handoff.state, handoff.outcome) == ("closed", "supported")
        assert handoff.conversation.state == "bot"
    assert console.rasa.turns == []  # Rasa heard nothing of the counsellor's conversation
    trail = [action for actor, action in _audit(console, case) if actor == "asha"]
    for action in ("case.view", "case.claim", "case.reply", "case.close", "case.bot_resumed"):
        assert action in trail, trail


def test_closing_when_rasa_is_down_says_so(console: Console) -> None:
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000001")
    headers = token(console.client, "asha")
    console.client.post(f"/api/cases/{case}/claim", headers=headers)
    console.rasa.down = True
    closed = console.client.post(
        f"/api/cases/{case}/close", json={"outcome": "supported"}, headers=headers
    )
    assert closed.status_code == 200 and closed.json()["bot_resumed"] is False
    assert ("asha", "case.bot_resume_failed") in _audit(console, case)
    bad = console.client.post(
        f"/api/cases/{case}/close", json={"outcome": "supported"}, headers=headers
    )
    assert bad.status_code == 409


def test_an_unknown_outcome_is_refused_and_nothing_changes(console: Console) -> None:
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000001")
    headers = token(console.client, "asha")
    console.client.post(f"/api/cases/{case}/claim", headers=headers)
    refused = console.client.post(
        f"/api/cases/{case}/close", json={"outcome": "whatever"}, headers=headers
    )
    assert refused.status_code == 400
    with session_scope(console.url) as session:
        assert session.get_one(Handoff, case).state == "claimed"
    assert ("asha", "case.close.refused") in _audit(console, case)


def _age_conversation(console: Console, case: int, hours: int) -> None:
    with session_scope(console.url) as session:
        handoff = session.get_one(Handoff, case)
        for message in handoff.conversation.messages:
            message.created_at = utcnow() - dt.timedelta(hours=hours)


def test_outside_whatsapps_window_there_is_no_template_configured(console: Console) -> None:
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000001", channel="whatsapp")
    _age_conversation(console, case, hours=30)
    csrf = sign_in(console.client, "asha")
    htmx = {"HX-Request": "true"}
    console.client.post(f"/console/cases/{case}/claim", data={"csrf_token": csrf}, headers=htmx)
    page = console.client.post(
        f"/console/cases/{case}/reply",
        data={"csrf_token": csrf, "text": "Are you safe?"},
        headers=htmx,
    )
    assert "more than 24 hours ago" in page.text
    assert "No approved follow-up template is configured" in page.text
    api = console.client.post(
        f"/api/cases/{case}/reply", json={"text": "Are you safe?"}, headers={"X-CSRF-Token": csrf}
    )
    assert api.status_code == 409 and "outside_session_window" in api.json()["detail"]
    template = console.client.post(f"/api/cases/{case}/template", headers={"X-CSRF-Token": csrf})
    assert template.status_code == 403
    with session_scope(console.url) as session:
        handoff = session.get_one(Handoff, case)
        assert handoff.state == "claimed"
        assert [m.direction for m in handoff.conversation.messages] == ["in"]


def test_outside_the_window_the_approved_template_goes_by_content_sid(tmp_path: Path) -> None:
    with (
        fake_twilio() as twilio,
        build(
            tmp_path,
            console={"TWILIO_TEMPLATE_FOLLOWUP_SID": "HX" + "a" * 32},
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
            TWILIO_API_BASE_URL=twilio.url,
        ) as console,
    ):
        counsellor(console, "asha")
        case = make_case(console, phone="+919800000001", channel="whatsapp")
        _age_conversation(console, case, hours=30)
        csrf = sign_in(console.client, "asha")
        htmx = {"HX-Request": "true"}
        console.client.post(f"/console/cases/{case}/claim", data={"csrf_token": csrf}, headers=htmx)
        page = console.client.post(
            f"/console/cases/{case}/reply",
            data={"csrf_token": csrf, "text": "Are you safe?"},
            headers=htmx,
        )
        assert "Send the approved follow-up template" in page.text
        # A template reaches someone who has not written for a day: only with their consent.
        refused = console.client.post(
            f"/console/cases/{case}/template", data={"csrf_token": csrf}, headers=htmx
        )
        assert "no recorded consent" in refused.text.lower()
        assert twilio.requests == []
        console.client.post(
            f"/console/cases/{case}/consent",
            data={"csrf_token": csrf, "purpose": "followup", "answer": "yes"},
            headers=htmx,
        )
        sent = console.client.post(
            f"/console/cases/{case}/template", data={"csrf_token": csrf}, headers=htmx
        )
        assert "Follow-up template sent" in sent.text
        [request] = twilio.requests
        assert request["ContentSid"] == "HX" + "a" * 32
        assert request["To"] == "whatsapp:+919800000001"
        assert "Body" not in request
        with session_scope(console.url) as session:
            handoff = session.get_one(Handoff, case)
            assert handoff.state == "active"
            assert handoff.conversation.messages[-1].twilio_sid == twilio.sids[0]
        assert ("asha", "case.template") in _audit(console, case)


def test_a_delivery_failure_is_shown_and_kept(tmp_path: Path) -> None:
    with fake_twilio() as twilio:
        twilio.fail_with = 400
        with build(
            tmp_path,
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
            TWILIO_API_BASE_URL=twilio.url,
        ) as console:
            counsellor(console, "asha")
            case = make_case(console, phone="+919800000001", channel="whatsapp")
            headers = token(console.client, "asha")
            console.client.post(f"/api/cases/{case}/claim", headers=headers)
            failed = console.client.post(
                f"/api/cases/{case}/reply", json={"text": "hello"}, headers=headers
            )
            assert failed.status_code == 502
            with session_scope(console.url) as session:
                handoff = session.get_one(Handoff, case)
                assert handoff.state == "claimed"  # nothing reached the person
                assert handoff.conversation.messages[-1].delivery_status == "failed"


def test_notes_are_encrypted_and_audited(console: Console) -> None:
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000001")
    headers = token(console.client, "asha")
    added = console.client.post(
        f"/api/cases/{case}/notes",
        json={"text": "ঠিকাদার টাকা আটকে রেখেছে; call back at 6"},
        headers=headers,
    )
    assert added.status_code == 201 and added.json()["author"] == "Asha"
    with session_scope(console.url) as session:
        note = session.scalars(select(CaseNote)).one()
        assert "ঠিকাদার".encode() not in note.body_encrypted
    listed = console.client.get(f"/api/cases/{case}/notes", headers=headers).json()
    assert [n["text"] for n in listed] == ["ঠিকাদার টাকা আটকে রেখেছে; call back at 6"]
    assert ("asha", "case.note") in _audit(console, case)


def test_transfer_to_a_colleague(console: Console) -> None:
    counsellor(console, "asha")
    bina = counsellor(console, "bina", languages=("hi",))
    case = make_case(console, phone="+919800000001")
    headers = token(console.client, "asha")
    console.client.post(f"/api/cases/{case}/claim", headers=headers)
    moved = console.client.post(
        f"/api/cases/{case}/transfer", json={"to_counsellor_id": bina}, headers=headers
    )
    assert moved.status_code == 200
    assert moved.json() | {"handoff_id": 0} == {
        "handoff_id": 0,
        "state": "queued",
        "priority": "normal",
        "counsellor_id": None,
        "assigned_to_id": bina,
        "outcome": None,
    }
    # Assigned to Bina now: Asha no longer sees it, Bina (a Hindi speaker) does.
    assert console.client.get(f"/api/cases/{case}/summary", headers=headers).status_code == 404
    queue = console.client.get("/api/queue", headers=token(console.client, "bina")).json()
    assert [item["handoff_id"] for item in queue] == [case]


def test_every_view_is_audited(console: Console) -> None:
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000001")
    headers = token(console.client, "asha")
    console.client.get(f"/api/cases/{case}/summary", headers=headers)
    console.client.get(f"/api/cases/{case}/messages", headers=headers)
    sign_in(console.client, "asha")
    console.client.get(f"/console/cases/{case}")
    actions = Counter(action for _, action in _audit(console, case))
    assert actions["case.view"] == 2 and actions["case.messages"] == 1


def test_the_case_event_stream_sends_new_messages_and_state(console: Console) -> None:
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000001", text="first")
    sign_in(console.client, "asha")
    page = console.client.get(f"/console/cases/{case}").text
    assert 'sse-connect="/console/cases/' in page and 'sse-swap="message"' in page
    with session_scope(console.url) as session:
        conversation = session.get_one(Handoff, case).conversation
        message = Message(
            conversation_id=conversation.id,
            direction="in",
            author="person",
            body_encrypted=encrypt("আমি এখনও আছি", key=console.settings.encryption_key),
        )
        session.add(message)
        session.flush()
        first_id = message.id - 1
    with console.client.stream(
        "GET", f"/console/cases/{case}/events", params={"after": first_id, "state": "stale"}
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = "".join(stream.iter_text())
    assert "event: message" in body and "আমি এখনও আছি" in body and "first" not in body
    assert f"id: {first_id + 1}" in body
    assert "event: state" in body and "Claim this case" in body
    # A reconnecting browser sends Last-Event-ID: nothing is sent twice.
    with console.client.stream(
        "GET",
        f"/console/cases/{case}/events",
        params={"after": 0, "state": "queued:normal:None:None"},
        headers={"Last-Event-ID": str(first_id + 1)},
    ) as stream:
        again = "".join(stream.iter_text())
    assert "event: message" not in again and "event: state" not in again


def test_the_queue_event_stream_sends_the_queue(console: Console) -> None:
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000001")
    sign_in(console.client, "asha")
    with console.client.stream("GET", "/console/queue/events") as stream:
        body = "".join(stream.iter_text())
    assert body.count("event: queue") == 1 and f'data-handoff="{case}"' in body


def test_static_files_are_served_locally(console: Console) -> None:
    for name in ("htmx.min.js", "htmx-ext-sse.min.js", "console.css", "console.js"):
        assert console.client.get(f"/console/static/{name}").status_code == 200
    assert console.client.get("/console/static/..%2Fviews.py").status_code == 404
    assert console.client.get("/console/static/README.md").status_code == 404


def test_the_api_is_documented(console: Console) -> None:
    document = console.client.get("/openapi.json").json()
    paths = document["paths"]
    for path in (
        "/api/token",
        "/api/queue",
        "/api/cases/{handoff_id}/summary",
        "/api/cases/{handoff_id}/messages",
        "/api/cases/{handoff_id}/reply",
        "/api/cases/{handoff_id}/claim",
        "/api/cases/{handoff_id}/close",
        "/api/cases/{handoff_id}/notes",
    ):
        assert path in paths, path
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyCookie"]["name"] == "sahay_session"
    assert not any(path.startswith("/console") for path in paths)
