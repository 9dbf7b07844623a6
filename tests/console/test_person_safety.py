"""The case page's "Keeping them safe": the abusive-number mark (a supervisor undoes it),
consent recorded by the counsellor, the person's other channels, and refusals audited."""

from __future__ import annotations

from sqlalchemy import select

from bot.contact_safety.service import has_consent
from bot.handoff.service import request_handoff
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Contact, Conversation, Handoff
from tests.console.conftest import Console, counsellor, make_case, sign_in

HTMX = {"HX-Request": "true"}


def audit(console: Console, case: int) -> list[tuple[str, str]]:
    with session_scope(console.url) as session:
        rows = session.execute(
            select(AuditEntry.actor, AuditEntry.action)
            .where(AuditEntry.target_id == case)
            .order_by(AuditEntry.id)
        ).all()
    return [(actor, action) for actor, action in rows]


def contact_of(console: Console, case: int) -> tuple[bool, str | None, int]:
    with session_scope(console.url) as session:
        contact: Contact = session.get_one(Handoff, case).conversation.contact
        return contact.abusive_at is not None, contact.abusive_by, contact.id


def test_a_counsellor_marks_a_number_abusive_and_only_a_supervisor_undoes_it(
    console: Console,
) -> None:
    counsellor(console, "asha")
    counsellor(console, "ravi", role="supervisor")
    case = make_case(console, phone="+919800000011")
    csrf = sign_in(console.client, "asha")
    marked = console.client.post(
        f"/console/cases/{case}/abusive", data={"csrf_token": csrf}, headers=HTMX
    )
    assert marked.status_code == 200 and "Number marked abusive" in marked.text
    assert contact_of(console, case)[:2] == (True, "asha")
    refused = console.client.post(
        f"/console/cases/{case}/abusive/clear", data={"csrf_token": csrf}, headers=HTMX
    )
    assert "only a supervisor" in refused.text.lower()
    assert contact_of(console, case)[0] is True

    console.client.post("/console/sign-out", data={"csrf_token": csrf})
    csrf = sign_in(console.client, "ravi")
    page = console.client.get(f"/console/cases/{case}").text
    assert "Undo the abusive mark" in page
    cleared = console.client.post(
        f"/console/cases/{case}/abusive/clear", data={"csrf_token": csrf}, headers=HTMX
    )
    assert "mark is removed" in cleared.text
    assert contact_of(console, case)[0] is False
    assert ("asha", "contact.abusive") in audit(console, case)
    assert ("asha", "contact.abusive_cleared.refused") in audit(console, case)
    assert ("ravi", "contact.abusive_cleared") in audit(console, case)


def test_the_counsellor_holding_the_case_records_consent(console: Console) -> None:
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000012")
    csrf = sign_in(console.client, "asha")
    before = console.client.post(
        f"/console/cases/{case}/consent",
        data={"csrf_token": csrf, "purpose": "callback", "answer": "yes"},
        headers=HTMX,
    )
    assert "only the counsellor talking with the person" in before.text.lower()
    console.client.post(f"/console/cases/{case}/claim", data={"csrf_token": csrf}, headers=HTMX)
    recorded = console.client.post(
        f"/console/cases/{case}/consent",
        data={"csrf_token": csrf, "purpose": "callback", "answer": "yes"},
        headers=HTMX,
    )
    assert "answer is recorded" in recorded.text and "callback: yes" in recorded.text
    bad = console.client.post(
        f"/console/cases/{case}/consent",
        data={"csrf_token": csrf, "purpose": "marketing", "answer": "yes"},
        headers=HTMX,
    )
    assert bad.status_code == 200 and "unknown purpose" in bad.text.lower()
    with session_scope(console.url) as session:
        contact_id = contact_of(console, case)[2]
        assert has_consent(session=session, contact_id=contact_id, purpose="callback")
        assert not has_consent(session=session, contact_id=contact_id, purpose="followup")
    assert ("asha", "contact.consent") in audit(console, case)


def test_other_channels_show_unless_the_person_asked_to_keep_them_apart(
    console: Console,
) -> None:
    counsellor(console, "asha")
    make_case(console, phone="+919800000013", channel="whatsapp", text="पहला संदेश व्हाट्सऐप पर")
    with session_scope(console.url) as session:
        first = session.scalars(select(Handoff)).one()
        first.state, first.conversation.state = "closed", "bot"
        contact = first.conversation.contact
        voice = Conversation(contact=contact, channel="voice", language="bn")
        session.add(voice)
        session.flush()
        case = request_handoff(
            session=session,
            conversation=voice,
            priority="normal",
            reason="ivr:counsellor",
            actor="t",
        ).id
    sign_in(console.client, "asha")
    page = console.client.get(f"/console/cases/{case}").text
    assert "The same person on other conversations" in page
    assert "पहला संदेश व्हाट्सऐप पर" in page
    with session_scope(console.url) as session:
        session.get_one(Handoff, case).conversation.contact.channels_apart = True
    page = console.client.get(f"/console/cases/{case}").text
    assert "पहला संदेश व्हाट्सऐप पर" not in page
    assert "kept apart" in page
