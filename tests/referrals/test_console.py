"""Counsellors refer, move and export from the console; supervisors read indicators."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.storage.db import session_scope
from bot.storage.models import Conversation, Handoff
from tests.console.conftest import Console, build, counsellor, make_case, sign_in, token


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    with build(tmp_path) as built:
        yield built


def conversation_of(console: Console, handoff_id: int) -> tuple[int, int]:
    with session_scope(console.url) as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff is not None
        conversation = session.get(Conversation, handoff.conversation_id)
        assert conversation is not None
        conversation.district, conversation.region_state = "Ernakulam", "Kerala"
        return conversation.id, conversation.contact_id


def test_a_counsellor_refers_sends_the_slip_and_moves_it(
    console: Console,
) -> None:
    counsellor(console, "asha")
    auth = token(console.client, "asha")
    conversation_id, _contact_id = conversation_of(
        console, make_case(console, phone="+919800011111")
    )

    created = console.client.post(
        f"/api/conversations/{conversation_id}/referrals",
        json={
            "kind": "wages",
            "reason": "unpaid wages",
            "consent_followup": True,
            "person_agreed": True,
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "sent" and body["slip_sent"] is True
    assert "Kerala Labour Department" in body["service"]
    assert body["created_by"].startswith("counsellor:")

    moved = console.client.post(
        f"/api/referrals/{body['id']}/state",
        json={"state": "acknowledged", "note": "called the office with her"},
        headers=auth,
    )
    assert moved.status_code == 200 and moved.json()["state"] == "acknowledged"
    back = console.client.post(
        f"/api/referrals/{body['id']}/state", json={"state": "created"}, headers=auth
    )
    assert back.status_code == 409 and "cannot go" in back.text
    listed = console.client.get("/api/referrals", headers=auth).json()
    assert [r["code"] for r in listed] == [body["code"]]


def test_fhir_export_is_refused_without_consent_and_given_with_it(console: Console) -> None:
    counsellor(console, "asha")
    auth = token(console.client, "asha")
    conversation_id, contact_id = conversation_of(
        console, make_case(console, phone="+919800022222")
    )
    console.client.post(
        f"/api/conversations/{conversation_id}/referrals",
        json={"kind": "legal_aid", "reason": "legal help", "person_agreed": True},
        headers=auth,
    )
    refused = console.client.get(f"/api/contacts/{contact_id}/fhir", headers=auth)
    assert refused.status_code == 403
    recorded = console.client.post(
        f"/api/contacts/{contact_id}/record-consent",
        json={"scopes": ["referrals"], "recipient": "DLSA Ernakulam"},
        headers=auth,
    )
    assert recorded.status_code == 201
    bundle = console.client.get(f"/api/contacts/{contact_id}/fhir", headers=auth).json()
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds == ["Patient", "Consent", "ServiceRequest"]


def test_peer_supporters_do_not_see_referrals(console: Console) -> None:
    counsellor(console, "ravi", role="peer_supporter")
    assert (
        console.client.get("/api/referrals", headers=token(console.client, "ravi")).status_code
        == 403
    )


def test_indicators_are_for_supervisors_and_the_partner_csv_has_no_numbers(
    console: Console,
) -> None:
    counsellor(console, "asha")
    counsellor(console, "meera", role="supervisor")
    auth = token(console.client, "asha")
    conversation_id, _ = conversation_of(console, make_case(console, phone="+919800033333"))
    console.client.post(
        f"/api/conversations/{conversation_id}/referrals",
        json={"kind": "shelter", "reason": "needs a safe place", "person_agreed": True},
        headers=auth,
    )
    sign_in(console.client, "asha")
    assert console.client.get("/console/indicators").status_code == 403
    partner = console.client.get("/console/referrals.csv")
    assert partner.status_code == 200 and partner.headers["content-type"].startswith("text/csv")
    assert "SR-" in partner.text and "+91" not in partner.text
    console.client.cookies.clear()
    sign_in(console.client, "meera")
    page = console.client.get("/console/indicators")
    assert page.status_code == 200 and "Needs referred" in page.text
    assert '<td class="suppressed">suppressed</td>' in page.text and "All states" in page.text
    csv_text = console.client.get("/console/indicators.csv").text
    assert csv_text.splitlines()[0] == "state,month,measure,category,people"
    assert ",need,shelter,suppressed" in csv_text and "Kerala" in csv_text


def test_the_case_summary_lists_the_referral(console: Console) -> None:
    counsellor(console, "asha")
    auth = token(console.client, "asha")
    handoff_id = make_case(console, phone="+919800044444")
    conversation_id, _ = conversation_of(console, handoff_id)
    console.client.post(
        f"/api/conversations/{conversation_id}/referrals",
        json={"kind": "wages", "reason": "unpaid wages", "person_agreed": True},
        headers=auth,
    )
    summary = console.client.get(f"/api/cases/{handoff_id}/summary", headers=auth).json()
    [section] = [s for s in summary["sections"] if s["key"] == "referrals"]
    assert "Kerala Labour Department" in section["items"][0]["label"]
    assert "SR-" in section["items"][0]["label"]
    assert section["items"][0]["value"].startswith("sent")
    with session_scope(console.url) as session:
        assert session.scalars(select(Handoff)).first() is not None


def test_the_api_refers_only_people_of_the_viewers_cases_and_only_with_consent(
    console: Console,
) -> None:
    counsellor(console, "asha")  # speaks Bengali
    counsellor(console, "tara", languages=("ta",))
    conversation_id, contact_id = conversation_of(
        console, make_case(console, phone="+919800055555")
    )
    asha, tara = token(console.client, "asha"), token(console.client, "tara")
    body = {"kind": "wages", "reason": "unpaid wages"}
    without = console.client.post(
        f"/api/conversations/{conversation_id}/referrals", json=body, headers=asha
    )
    assert without.status_code == 422
    body["person_agreed"] = True
    stranger = console.client.post(
        f"/api/conversations/{conversation_id}/referrals", json=body, headers=tara
    )
    assert stranger.status_code == 404
    assert console.client.get(f"/api/contacts/{contact_id}/fhir", headers=tara).status_code == 404
    made = console.client.post(
        f"/api/conversations/{conversation_id}/referrals", json=body, headers=asha
    )
    assert made.status_code == 201
    moved = console.client.post(
        f"/api/referrals/{made.json()['id']}/state", json={"state": "closed"}, headers=tara
    )
    assert moved.status_code == 404
