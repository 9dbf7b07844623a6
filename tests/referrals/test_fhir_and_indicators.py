"""Records that travel (FHIR R4, only with consent) and indicators with small cells hidden."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.config import Settings
from bot.referrals.fhir import NoRecordConsent, export_bundle
from bot.referrals.indicators import (
    MIN_CELL,
    indicators,
    indicators_csv,
    referrals_csv,
    suppress,
)
from bot.referrals.models import Referral
from bot.referrals.service import create_referral, move_referral, record_consent, revoke_consents
from bot.storage.crypto import encrypt
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, ScreeningRecord
from tests.referrals.conftest import MORNING, add_person


def person_with_records(settings: Settings) -> int:
    """A person with a referral and PHQ-9 and GAD-7 results; their contact id."""
    conversation_id = add_person(settings)
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        referral = create_referral(
            session=session,
            conversation=conversation,
            kind="mental_health",
            reason="screening:phq9_positive",
            created_by="counsellor:3",
            consent_followup=True,
            priority="high",
        )
        move_referral(session=session, referral=referral, to_state="sent", actor="counsellor:3")
        for instrument, total, band in (
            ("phq9", 16, "moderately_severe"),
            ("gad7", 11, "moderate"),
        ):
            session.add(
                ScreeningRecord(
                    conversation_id=conversation_id,
                    instrument=instrument,
                    answers_encrypted=encrypt("[]", key=settings.encryption_key),
                    total=total,
                    band=band,
                    positive=True,
                    flags=[],
                )
            )
        return conversation.contact_id


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_without_consent_nothing_is_exported(settings: Settings) -> None:
    contact_id = person_with_records(settings)
    with session_scope(settings.database_url) as session, pytest.raises(NoRecordConsent):
        export_bundle(session=session, contact_id=contact_id)


def test_revoked_consent_exports_nothing(settings: Settings) -> None:
    contact_id = person_with_records(settings)
    with session_scope(settings.database_url) as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        record_consent(
            session=session, contact=contact, scopes=["referrals"], recorded_by="counsellor:3"
        )
        assert revoke_consents(session=session, contact=contact) == 1
        with pytest.raises(NoRecordConsent):
            export_bundle(session=session, contact_id=contact_id)


def test_with_consent_the_bundle_carries_referrals_and_scores_with_loinc(
    settings: Settings,
) -> None:
    contact_id = person_with_records(settings)
    with session_scope(settings.database_url) as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        record_consent(
            session=session,
            contact=contact,
            scopes=["referrals", "screening"],
            recorded_by="counsellor:3",
            recipient="DMHP Ernakulam",
        )
        bundle = export_bundle(session=session, contact_id=contact_id)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    [request] = resources(bundle, "ServiceRequest")
    assert (request["status"], request["intent"], request["priority"]) == (
        "active",
        "order",
        "urgent",
    )
    assert request["identifier"][0]["value"].startswith("SR-")
    codes = {
        o["code"]["coding"][0]["code"]: o["valueInteger"] for o in resources(bundle, "Observation")
    }
    assert codes == {"44261-6": 16, "70274-6": 11}
    [consent] = resources(bundle, "Consent")
    assert consent["status"] == "active" and consent["provision"]["type"] == "permit"
    [patient] = resources(bundle, "Patient")
    assert "telecom" not in patient and "name" not in patient
    assert "+91" not in str(bundle)


def test_consent_covers_only_its_scopes(settings: Settings) -> None:
    contact_id = person_with_records(settings)
    with session_scope(settings.database_url) as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        record_consent(
            session=session, contact=contact, scopes=["referrals"], recorded_by="counsellor:3"
        )
        bundle = export_bundle(session=session, contact_id=contact_id)
    assert resources(bundle, "Observation") == []
    assert len(resources(bundle, "ServiceRequest")) == 1


def test_the_bundle_validates_as_fhir(settings: Settings) -> None:
    # fhir.resources (a dev dependency) has no 4.0.1 models; R4B (4.3) has the same
    # Patient, Consent, ServiceRequest, Observation and Bundle. Imported, not skipped.
    from fhir.resources.R4B import bundle as bundle_module

    contact_id = person_with_records(settings)
    with session_scope(settings.database_url) as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        record_consent(
            session=session,
            contact=contact,
            scopes=["referrals", "screening"],
            recorded_by="counsellor:3",
            recipient="DMHP Ernakulam",
        )
        bundle = export_bundle(session=session, contact_id=contact_id)
    parsed = bundle_module.Bundle.model_validate(bundle)
    kinds = sorted(entry.resource.get_resource_type() for entry in parsed.entry)
    assert kinds == ["Consent", "Observation", "Observation", "Patient", "ServiceRequest"]


# --- indicators ---------------------------------------------------------------------


def people(n: int, first: int = 0) -> set[int]:
    return set(range(first, first + n))


@pytest.mark.parametrize(("size", "shown"), [(MIN_CELL - 1, None), (MIN_CELL, MIN_CELL)])
def test_suppression_boundary_nine_hidden_ten_shown(size: int, shown: int | None) -> None:
    cells = suppress({("Kerala", "2026-12", "need", "wages"): people(size)})
    # The cell, Kerala's total, the total for wages and the month's: all the same people.
    assert [(c.state, c.category, c.people) for c in cells] == [
        ("Kerala", "wages", shown),
        ("Kerala", "all", shown),
        ("all", "wages", shown),
        ("all", "all", shown),
    ]
    rows = list(csv.reader(io.StringIO(indicators_csv(cells))))
    assert rows[1] == ["Kerala", "2026-12", "need", "wages", str(shown or "suppressed")]


def test_a_lone_small_cell_takes_its_smallest_neighbour_with_it() -> None:
    cells = suppress(
        {
            ("Kerala", "2026-12", "need", "wages"): people(MIN_CELL - 1, 0),
            ("Kerala", "2026-12", "need", "legal_aid"): people(MIN_CELL, 100),
            ("Kerala", "2026-12", "need", "shelter"): people(25, 200),
        }
    )
    shown = {(c.state, c.category): c.people for c in cells}
    assert shown == {
        ("Kerala", "legal_aid"): None,  # 10 people, hidden so that 9 cannot be worked out
        ("Kerala", "shelter"): 25,
        ("Kerala", "wages"): None,
        ("Kerala", "all"): 44,
        # With one state, each category's total is Kerala's own count: hidden alike.
        ("all", "legal_aid"): None,
        ("all", "shelter"): 25,
        ("all", "wages"): None,
        ("all", "all"): 44,
    }


def test_counts_are_people_not_referrals_by_state_and_month(settings: Settings) -> None:
    # Ten people in Kerala with a wages referral; one of them referred twice.
    for number in range(10):
        conversation_id = add_person(settings, phone=f"+9198765000{number:02d}")
        with session_scope(settings.database_url) as session:
            conversation = session.get(Conversation, conversation_id)
            assert conversation is not None
            for _ in range(2 if number == 0 else 1):
                create_referral(
                    session=session,
                    conversation=conversation,
                    kind="wages",
                    reason="ask_wages",
                    created_by="bot:test",
                    consent_followup=False,
                    now=MORNING,
                )
    with session_scope(settings.database_url) as session:
        cells = indicators(session=session)
        first = session.scalars(select(Referral).limit(1)).first()
        assert first is not None
        partner = referrals_csv([first])
    by_key = {(c.state, c.measure, c.category): c.people for c in cells}
    assert by_key[("Kerala", "need", "wages")] == 10
    assert by_key[("Kerala", "need", "all")] == 10
    assert by_key[("Kerala", "referral_outcome", "created")] == 10
    assert by_key[("all", "referral_outcome", "all")] == 10
    assert {c.state for c in cells} == {"Kerala", "all"} and {c.month for c in cells} == {"2026-12"}
    assert "+91" not in partner and first.code in partner


def test_a_person_less_and_the_cell_disappears(settings: Settings) -> None:
    for number in range(9):
        conversation_id = add_person(settings, phone=f"+9198765100{number:02d}")
        with session_scope(settings.database_url) as session:
            conversation = session.get(Conversation, conversation_id)
            assert conversation is not None
            create_referral(
                session=session,
                conversation=conversation,
                kind="shelter",
                reason="ask_shelter",
                created_by="bot:test",
                consent_followup=False,
                now=MORNING - dt.timedelta(days=40),
            )
    with session_scope(settings.database_url) as session:
        cells = indicators(session=session)
    assert cells and all(cell.suppressed for cell in cells)
