"""Counsellors refer and move referrals on the case page (HTML forms, htmx and without script)."""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.referrals.models import Referral
from bot.referrals.service import create_referral
from bot.storage.crypto import decrypt
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Conversation, Handoff, Message
from tests.console.conftest import Console, build, counsellor, make_case, sign_in

HTMX = {"HX-Request": "true"}
SERVICE_OPTION = re.compile(r'<option value="([^"]+)"[^>]*>([^<]*)</option>')


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    with build(tmp_path) as built:
        yield built


def place(console: Console, handoff_id: int, district: str | None, state: str | None) -> int:
    """Put the case's person in a place; their conversation's id."""
    with session_scope(console.url) as session:
        handoff = session.get_one(Handoff, handoff_id)
        conversation = session.get_one(Conversation, handoff.conversation_id)
        conversation.district, conversation.region_state = district, state
        return conversation.id


def services(console: Console, case: int, kind: str) -> dict[str, str]:
    """The service list the form offers for a type of referral: name -> key."""
    answer = console.client.get(
        f"/console/cases/{case}/referrals/services", params={"kind": kind}, headers=HTMX
    )
    assert answer.status_code == 200, answer.text
    assert answer.text.startswith('<div id="referral-service-field"')
    return {html.unescape(name): key for key, name in SERVICE_OPTION.findall(answer.text)}


def key_of(options: dict[str, str], fragment: str) -> str:
    [key] = [key for name, key in options.items() if fragment in name]
    return key


def referral_form(csrf: str, **values: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "kind": "wages",
        "priority": "high",
        "reason": "two months' wages unpaid",
        "consent_referral": "yes",
        "consent_followup": "yes",
        "visibility": "team",
        "send_slip": "yes",
    }
    form.update(values)
    return {name: value for name, value in form.items() if value != "-"}


def referrals(console: Console) -> list[Referral]:
    with session_scope(console.url) as session:
        found = list(session.scalars(select(Referral).order_by(Referral.id)))
        for referral in found:
            _ = referral.events, referral.followups
        session.expunge_all()
        return found


def audit(console: Console) -> list[tuple[str, str]]:
    with session_scope(console.url) as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.id)
        ).all()
    return [(actor, action) for actor, action in rows]


def claimed_case(console: Console, username: str = "asha", **case: Any) -> tuple[int, str]:
    """A case in Ernakulam, claimed by `username` through the page; its id and CSRF token."""
    counsellor(console, username, languages=("bn", "hi"))
    handoff_id = make_case(console, phone=case.pop("phone", "+919800055555"), **case)
    place(console, handoff_id, "Ernakulam", "Kerala")
    csrf = sign_in(console.client, username)
    claimed = console.client.post(
        f"/console/cases/{handoff_id}/claim", data={"csrf_token": csrf}, headers=HTMX
    )
    assert claimed.status_code == 200 and "The case is yours" in claimed.text
    return handoff_id, csrf


def test_a_counsellor_refers_from_the_case_page_and_moves_it_with_a_note(
    console: Console,
) -> None:
    case, csrf = claimed_case(console)
    page = console.client.get(f"/console/cases/{case}").text
    assert "Refer this person" in page and "Services near: Ernakulam, Kerala." in page
    assert "No referrals for this person yet." in page

    # The service list follows the type: the district's office first, national lines after.
    wages = services(console, case, "wages")
    nearest = next(iter(wages))
    assert nearest.startswith("Migrant workers' facilitation centre (Kerala Labour")
    assert any("(national line)" in name for name in wages)
    legal = services(console, case, "legal_aid")
    assert "Kerala State Legal Services Authority" in next(iter(legal))
    assert nearest not in legal

    created = console.client.post(
        f"/console/cases/{case}/referrals",
        data=referral_form(csrf, service=key_of(wages, "Migrant workers")),
        headers=HTMX,
    )
    assert created.status_code == 200, created.text
    assert created.text.startswith('<section id="referrals"')
    [referral] = referrals(console)
    assert f"Referral {referral.code} created, and the slip sent to the person." in created.text
    assert (referral.kind, referral.state, referral.priority) == ("wages", "sent", "high")
    assert "Migrant workers" in referral.service and referral.service_level == "district"
    assert referral.consent_followup and len(referral.followups) == 2
    assert referral.created_by.startswith("counsellor:")
    assert [e.to_state for e in referral.events] == ["created", "sent"]

    # The person received the slip, in their language (Bengali), with the code.
    with session_scope(console.url) as session:
        handoff = session.get_one(Handoff, case)
        assert handoff.state == "active"
        [slip] = session.scalars(
            select(Message).where(
                Message.conversation_id == handoff.conversation_id, Message.direction == "out"
            )
        ).all()
        text = decrypt(slip.body_encrypted, key=console.settings.encryption_key)
    assert referral.code in text and "Perumbavoor" in text
    assert re.search(r"[\u0980-\u09FF]", text), text

    moved = console.client.post(
        f"/console/cases/{case}/referrals/{referral.id}/state",
        data={
            "csrf_token": csrf,
            "state": "acknowledged",
            "seen_state": "sent",
            "note": "वह दफ़्तर गईं, अधिकारी से मिलीं",
        },
        headers=HTMX,
    )
    assert moved.status_code == 200, moved.text
    assert f"Referral {referral.code} is now acknowledged." in moved.text
    history = moved.text[moved.text.index('<ol class="history">') :]
    assert "Sent → <strong>Acknowledged</strong>" in history
    assert "वह दफ़्तर गईं, अधिकारी से मिलीं" in history and "by Asha" in history
    [referral] = referrals(console)
    assert referral.state == "acknowledged"
    assert referral.events[-1].note == "वह दफ़्तर गईं, अधिकारी से मिलीं"
    trail = audit(console)
    assert ("asha", "referral.create") in trail and ("asha", "referral.state") in trail


def test_without_script_the_forms_redirect_back_to_the_case(console: Console) -> None:
    case, csrf = claimed_case(console)
    key = key_of(services(console, case, "shelter"), "Women")
    created = console.client.post(
        f"/console/cases/{case}/referrals", data=referral_form(csrf, kind="shelter", service=key)
    )
    assert created.status_code == 303
    assert created.headers["location"] == f"/console/cases/{case}?notice=referral_created"
    page = console.client.get(created.headers["location"]).text
    assert "Referral created, and the slip sent to the person." in page
    [referral] = referrals(console)
    moved = console.client.post(
        f"/console/cases/{case}/referrals/{referral.id}/state",
        data={"csrf_token": csrf, "state": "unreachable", "seen_state": "sent", "note": ""},
    )
    assert moved.status_code == 303
    assert "Unreachable" in console.client.get(moved.headers["location"]).text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"service": "office:0000000000000000"}, "service", "not in the directory"),
        ({"consent_referral": "-"}, "consent_referral", "Ask the person first"),
        ({"kind": "-"}, "kind", "Choose what the referral is for."),
        ({"kind": "astrology"}, "kind", "Choose what the referral is for."),
        ({"reason": "   "}, "reason", "Say in a few words"),
        ({"reason": "x" * 2000}, "reason", "Keep the reason to 128 characters"),
        ({"priority": "whenever"}, "priority", "Choose urgent, high or normal."),
        ({"visibility": "everyone"}, "visibility", "Choose who may see the referral."),
    ],
)
def test_a_bad_form_says_what_is_wrong_and_creates_nothing(
    console: Console, change: dict[str, str], field: str, message: str
) -> None:
    case, csrf = claimed_case(console)
    key = key_of(services(console, case, "wages"), "Migrant workers")
    data = referral_form(csrf, service=key, reason="unpaid wages") | change
    data = {name: value for name, value in data.items() if value != "-"}

    with_htmx = console.client.post(f"/console/cases/{case}/referrals", data=data, headers=HTMX)
    assert with_htmx.status_code == 200  # htmx swaps only successful answers
    assert message in html.unescape(with_htmx.text)
    assert "The referral was not made." in with_htmx.text
    # What the counsellor typed stays in the form.
    if field != "reason":
        assert 'value="unpaid wages"' in with_htmx.text

    without = console.client.post(f"/console/cases/{case}/referrals", data=data)
    assert without.status_code == 422 and message in html.unescape(without.text)
    assert "<title>Case" in without.text  # the whole page again, not a bare error

    assert referrals(console) == []
    assert ("asha", "referral.create.refused") in audit(console)


def test_a_service_from_another_type_is_refused(console: Console) -> None:
    case, csrf = claimed_case(console)
    legal = key_of(services(console, case, "legal_aid"), "Legal Services Authority")
    refused = console.client.post(
        f"/console/cases/{case}/referrals",
        data=referral_form(csrf, kind="wages", service=legal),
        headers=HTMX,
    )
    assert "not in the directory" in html.unescape(refused.text)
    assert referrals(console) == []


def test_moves_the_lifecycle_does_not_allow_are_explained(console: Console) -> None:
    case, csrf = claimed_case(console)
    key = key_of(services(console, case, "wages"), "Migrant workers")
    console.client.post(
        f"/console/cases/{case}/referrals", data=referral_form(csrf, service=key), headers=HTMX
    )
    [referral] = referrals(console)
    url = f"/console/cases/{case}/referrals/{referral.id}/state"

    def move(state: str, seen: str, note: str = "") -> tuple[int, str]:
        answer = console.client.post(
            url,
            data={"csrf_token": csrf, "state": state, "seen_state": seen, "note": note},
            headers=HTMX,
        )
        return answer.status_code, html.unescape(answer.text)

    status, text = move("created", "sent")
    assert status == 200 and "Choose a new state." in text
    status, text = move("", "sent")
    assert "Choose a new state." in text
    status, text = move("completed", "sent", note="n" * 300)
    assert "Keep the note to 256 characters." in text
    assert move("completed", "sent")[0] == 200
    status, text = move("acknowledged", "completed")
    assert "A referral cannot go from completed to acknowledged." in text
    # A page left open while a colleague moved it: refused, with what it is now.
    status, text = move("unreachable", "sent")
    assert "Someone changed this referral meanwhile: it is now completed." in text
    assert "Completed: this referral is finished." in text

    without = console.client.post(
        url, data={"csrf_token": csrf, "state": "closed", "seen_state": "sent", "note": ""}
    )
    assert without.status_code == 409 and "<title>Case" in without.text

    [referral] = referrals(console)
    assert referral.state == "completed"
    assert [e.to_state for e in referral.events] == ["created", "sent", "completed"]
    assert audit(console).count(("asha", "referral.state.refused")) == 6


def test_a_referral_of_someone_else_cannot_be_moved_through_this_case(console: Console) -> None:
    case, csrf = claimed_case(console)
    other = make_case(console, phone="+919800066666")
    place(console, other, "Ernakulam", "Kerala")
    console.client.post(f"/console/cases/{other}/claim", data={"csrf_token": csrf}, headers=HTMX)
    key = key_of(services(console, other, "wages"), "Migrant workers")
    console.client.post(
        f"/console/cases/{other}/referrals", data=referral_form(csrf, service=key), headers=HTMX
    )
    [theirs] = referrals(console)
    answer = console.client.post(
        f"/console/cases/{case}/referrals/{theirs.id}/state",
        data={"csrf_token": csrf, "state": "closed", "seen_state": "sent"},
        headers=HTMX,
    )
    assert answer.status_code == 200 and "No such referral for this person." in answer.text
    assert referrals(console)[0].state == "sent"
    bad_id = console.client.post(
        f"/console/cases/{case}/referrals/not-a-number/state",
        data={"csrf_token": csrf, "state": "closed"},
        headers=HTMX,
    )
    assert bad_id.status_code == 422


def test_the_forms_need_the_csrf_token(console: Console) -> None:
    case, _ = claimed_case(console)
    key = key_of(services(console, case, "wages"), "Migrant workers")
    forged = referral_form("0" * 64, service=key)
    assert console.client.post(f"/console/cases/{case}/referrals", data=forged).status_code == 403
    assert referrals(console) == []


def test_only_the_holder_sends_the_slip(console: Console) -> None:
    counsellor(console, "meera", role="supervisor")
    case, _ = claimed_case(console)
    console.client.cookies.clear()
    csrf = sign_in(console.client, "meera")
    page = console.client.get(f"/console/cases/{case}").text
    assert "Only the counsellor who holds the case sends the slip" in page
    key = key_of(services(console, case, "mental_health"), "Tele-MANAS")
    created = console.client.post(
        f"/console/cases/{case}/referrals",
        data=referral_form(
            csrf, kind="mental_health", service=key, visibility="supervisors", send_slip="yes"
        ),
        headers=HTMX,
    )
    text = html.unescape(created.text)
    assert "saved, but the slip was not sent: only the counsellor who holds the case" in text
    [referral] = referrals(console)
    assert (referral.state, referral.service_level) == ("created", "national")
    assert referral.visibility == "supervisors" and "Tele-MANAS" in referral.service
    # Supervisors-only referrals stay out of a counsellor's sight.
    console.client.cookies.clear()
    sign_in(console.client, "asha")
    assert referral.code not in console.client.get(f"/console/cases/{case}").text


def test_outside_whatsapps_window_the_referral_is_saved_and_the_slip_is_not(
    console: Console,
) -> None:
    case, csrf = claimed_case(
        console, channel="whatsapp", age=dt.timedelta(days=2), phone="+919800077777"
    )
    key = key_of(services(console, case, "wages"), "Migrant workers")
    created = console.client.post(
        f"/console/cases/{case}/referrals", data=referral_form(csrf, service=key), headers=HTMX
    )
    text = html.unescape(created.text)
    assert "saved, but the slip was not sent: the person last wrote more than 24 hours" in text
    assert "Give the person its details another way, then mark it sent." in text
    [referral] = referrals(console)
    assert referral.state == "created"


def test_with_no_place_known_only_national_lines_are_offered(console: Console) -> None:
    case, _ = claimed_case(console)
    place(console, case, None, None)
    page = console.client.get(f"/console/cases/{case}").text
    assert "place not known, so national helplines only" in page
    options = services(console, case, "wages")
    assert options and all("(national line)" in name for name in options)


def test_peer_supporters_have_no_referral_panel(console: Console) -> None:
    peer = counsellor(console, "ravi", role="peer_supporter")
    case = make_case(console, phone="+919800088888", assigned_to=peer)
    conversation_id = place(console, case, "Ernakulam", "Kerala")
    with session_scope(console.url) as session:
        code = create_referral(
            session=session,
            conversation=session.get_one(Conversation, conversation_id),
            kind="wages",
            reason="ask_wages",
            created_by="bot:test",
            consent_followup=False,
        ).code
    csrf = sign_in(console.client, "ravi")
    page = console.client.get(f"/console/cases/{case}")
    assert page.status_code == 200 and "Refer this person" not in page.text
    assert code not in page.text  # neither the panel nor the summary shows referrals
    refused = console.client.post(
        f"/console/cases/{case}/referrals", data=referral_form(csrf, service="x")
    )
    assert refused.status_code == 403
    listed = console.client.get(
        f"/console/cases/{case}/referrals/services", params={"kind": "wages"}, headers=HTMX
    )
    assert listed.status_code == 403
    assert len(referrals(console)) == 1
    assert ("ravi", "referral.create.refused") in audit(console)


def test_a_case_the_viewer_may_not_see_is_not_found(console: Console) -> None:
    counsellor(console, "tamil", languages=("ta",))
    case = make_case(console, phone="+919800099999")
    csrf = sign_in(console.client, "tamil")
    answer = console.client.post(
        f"/console/cases/{case}/referrals", data=referral_form(csrf, service="x")
    )
    assert answer.status_code == 404
    assert ("tamil", "case.denied") in audit(console)


def test_two_simultaneous_moves_one_wins(console: Console) -> None:
    counsellor(console, "meera", role="supervisor")
    case, csrf = claimed_case(console)
    key = key_of(services(console, case, "wages"), "Migrant workers")
    console.client.post(
        f"/console/cases/{case}/referrals", data=referral_form(csrf, service=key), headers=HTMX
    )
    [referral] = referrals(console)
    other = TestClient(console.client.app, base_url="http://testserver", follow_redirects=False)
    tokens = {"asha": (console.client, csrf), "meera": (other, sign_in(other, "meera"))}
    wanted = {"asha": "acknowledged", "meera": "unreachable"}
    start = threading.Barrier(2)
    answers: dict[str, str] = {}

    def move(name: str) -> None:
        client, token = tokens[name]
        start.wait()
        answer = client.post(
            f"/console/cases/{case}/referrals/{referral.id}/state",
            data={"csrf_token": token, "state": wanted[name], "seen_state": "sent"},
            headers=HTMX,
        )
        answers[name] = html.unescape(answer.text)

    threads = [threading.Thread(target=move, args=(name,)) for name in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    [after] = referrals(console)
    assert after.state in wanted.values()
    assert [e.to_state for e in after.events] == ["created", "sent", after.state]
    loser = next(name for name, state in wanted.items() if state != after.state)
    assert f"Someone changed this referral meanwhile: it is now {after.state}." in answers[loser]
