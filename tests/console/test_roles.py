"""Role rules, by page and by API: what a peer supporter, counsellor and supervisor may do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.handoff import summary
from bot.handoff.summary import SectionProvider, SummaryItem
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry
from tests.console.conftest import Console, counsellor, make_case, sign_in, token


def test_a_peer_supporter_cannot_open_a_case_not_assigned_to_them(console: Console) -> None:
    peer = counsellor(console, "kiran", role="peer_supporter")
    other = make_case(console, phone="+919800000001")
    mine = make_case(console, phone="+919800000002", assigned_to=peer)
    headers = token(console.client, "kiran")
    for path in ("summary", "messages", "notes"):
        assert console.client.get(f"/api/cases/{other}/{path}", headers=headers).status_code == 404
    assert console.client.post(f"/api/cases/{other}/claim", headers=headers).status_code == 404
    assert console.client.get(f"/api/cases/{mine}/summary", headers=headers).status_code == 200

    sign_in(console.client, "kiran")
    assert console.client.get(f"/console/cases/{other}").status_code == 404
    assert console.client.get(f"/console/cases/{other}/events").status_code == 404
    assert console.client.get(f"/console/cases/{mine}").status_code == 200
    with session_scope(console.url) as session:
        denied = session.scalars(
            select(AuditEntry).where(
                AuditEntry.actor == "kiran", AuditEntry.action == "case.denied"
            )
        ).all()
    assert denied and all(entry.target_id == other for entry in denied)


def test_a_counsellor_cannot_open_a_colleagues_claimed_case(console: Console) -> None:
    counsellor(console, "asha")
    counsellor(console, "bina")
    case = make_case(console, phone="+919800000001")
    assert (
        console.client.post(
            f"/api/cases/{case}/claim", headers=token(console.client, "asha")
        ).status_code
        == 200
    )
    bina = token(console.client, "bina")
    assert console.client.get(f"/api/cases/{case}/summary", headers=bina).status_code == 404
    reply = console.client.post(f"/api/cases/{case}/reply", json={"text": "hello"}, headers=bina)
    assert reply.status_code == 404


@pytest.fixture
def screening_section() -> Iterator[None]:
    provider = SectionProvider(
        key="screening",
        title="Screening results",
        build=lambda _session, _conversation: [SummaryItem(label="PHQ-9", value="moderate (12)")],
        hidden_from=frozenset({"peer_supporter"}),
    )
    saved = list(summary.SECTION_PROVIDERS)
    summary.register_section(provider)
    yield
    summary.SECTION_PROVIDERS[:] = saved


@pytest.mark.usefixtures("screening_section")
def test_peer_supporters_do_not_see_screening_details(console: Console) -> None:
    peer = counsellor(console, "kiran", role="peer_supporter")
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000001", assigned_to=peer)
    other = make_case(console, phone="+919800000002")

    as_peer = console.client.get(
        f"/api/cases/{case}/summary", headers=token(console.client, "kiran")
    )
    assert [s["key"] for s in as_peer.json()["sections"]] == []
    as_counsellor = console.client.get(
        f"/api/cases/{other}/summary", headers=token(console.client, "asha")
    )
    assert as_counsellor.json()["sections"][0]["items"] == [
        {"label": "PHQ-9", "value": "moderate (12)"}
    ]
    sign_in(console.client, "kiran")
    assert "PHQ-9" not in console.client.get(f"/console/cases/{case}").text


def test_only_supervisors_see_the_dashboard(console: Console) -> None:
    counsellor(console, "asha")
    counsellor(console, "sunita", role="supervisor", languages=())
    make_case(
        console, phone="+919800000001", priority="urgent", crisis="suicide", reason="crisis:suicide"
    )
    sign_in(console.client, "asha")
    assert console.client.get("/console/dashboard").status_code == 403
    console.client.cookies.clear()
    sign_in(console.client, "sunita")
    page = console.client.get("/console/dashboard")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 3
    assert "Conversations by language" in page.text and "বাংলা (Bengali)" in page.text
    with session_scope(console.url) as session:
        assert session.scalar(select(AuditEntry.id).where(AuditEntry.action == "dashboard.view"))


def test_a_supervisor_can_close_a_case_another_counsellor_holds(console: Console) -> None:
    counsellor(console, "asha")
    counsellor(console, "sunita", role="supervisor", languages=())
    case = make_case(console, phone="+919800000001")
    console.client.post(f"/api/cases/{case}/claim", headers=token(console.client, "asha"))
    closed = console.client.post(
        f"/api/cases/{case}/close",
        json={"outcome": "not_needed"},
        headers=token(console.client, "sunita"),
    )
    assert closed.status_code == 200 and closed.json()["bot_resumed"] is True
