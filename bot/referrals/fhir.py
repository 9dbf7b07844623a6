"""A person's records as a FHIR R4 Bundle, so the next service does not start from zero.

Only with recorded consent (:class:`~bot.referrals.models.RecordConsent`): without an
active consent nothing is exported at all, and a consent covers only its scopes
("referrals", "screening"). The person is pseudonymous: the Patient carries the
helpline's own identifier and language, never the phone number.

Resources: Patient, Consent, ServiceRequest (one per referral) and Observation (one per
screening total; PHQ-9 as LOINC 44261-6, GAD-7 as LOINC 70274-6).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.referrals.models import RecordConsent, Referral
from bot.referrals.service import active_consents
from bot.storage.models import Contact, Conversation, ScreeningRecord

SAHAY_SYSTEM = "https://sahay.invalid/fhir"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
#: LOINC codes of the screening totals: PHQ-9 and GAD-7.
LOINC_TOTALS = {
    "phq9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
    "gad7": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
}
SCOPES = ("referrals", "screening")

# created -> draft: nothing sent yet; the rest as FHIR's request status reads them.
_REQUEST_STATUS = {
    "created": "draft",
    "sent": "active",
    "acknowledged": "active",
    "unreachable": "on-hold",
    "completed": "completed",
    "declined": "revoked",
    "closed": "revoked",
}
_REQUEST_PRIORITY = {"normal": "routine", "high": "urgent", "urgent": "asap"}


class NoRecordConsent(PermissionError):
    """The person has not agreed (or no longer agrees) to their records travelling."""


def _instant(moment: dt.datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat(timespec="seconds")


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _new_id() -> str:
    return str(uuid.uuid4())


def export_bundle(
    *, session: Session, contact_id: int, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The person's referrals and screening totals, with their consent, as a Bundle.

    Raises:
        NoRecordConsent: there is no active consent to share; nothing is exported.
    """
    contact = session.get(Contact, contact_id)
    consents = active_consents(session=session, contact_id=contact_id) if contact else []
    if contact is None or not consents:
        raise NoRecordConsent("no recorded consent to share this person's records")
    scopes = {scope for consent in consents for scope in consent.scopes}
    patient_id = _new_id()
    patient_ref = {"reference": f"urn:uuid:{patient_id}"}
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": [{"system": f"{SAHAY_SYSTEM}/contact", "value": contact.phone_key[:16]}],
    }
    if contact.preferred_language:
        patient["communication"] = [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": contact.preferred_language}]
                },
                "preferred": True,
            }
        ]
    entries = [_entry(patient)]
    entries += [_entry(_consent(consent, patient_ref)) for consent in consents]
    if "referrals" in scopes:
        for referral in session.scalars(
            select(Referral).where(Referral.contact_id == contact_id).order_by(Referral.id)
        ):
            entries.append(_entry(service_request(referral, patient_ref)))
    if "screening" in scopes:
        records = session.scalars(
            select(ScreeningRecord)
            .join(Conversation)
            .where(Conversation.contact_id == contact_id)
            .order_by(ScreeningRecord.id)
        )
        entries += [_entry(screening_observation(record, patient_ref)) for record in records]
    return {
        "resourceType": "Bundle",
        "id": _new_id(),
        "type": "collection",
        "timestamp": _instant(now or dt.datetime.now(dt.UTC)),
        "entry": entries,
    }


def _consent(consent: RecordConsent, patient: dict[str, str]) -> dict[str, Any]:
    purposes = ", ".join(consent.scopes)
    return {
        "resourceType": "Consent",
        "id": _new_id(),
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}],
        "patient": patient,
        "dateTime": _instant(consent.granted_at),
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
        "provision": {
            "type": "permit",
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "IRCP",
                            }
                        ]
                    },
                    "reference": {"display": consent.recipient},
                }
            ],
        }
        if consent.recipient
        else {"type": "permit"},
        "sourceReference": {"display": f"recorded by {consent.recorded_by}: {purposes}"},
    }


def service_request(referral: Referral, patient: dict[str, str]) -> dict[str, Any]:
    """One referral as a ServiceRequest (status, priority, service, reason, dates)."""
    performer = referral.service
    if referral.service_address:
        performer += f", {referral.service_address}"
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": _new_id(),
        "identifier": [{"system": f"{SAHAY_SYSTEM}/referral", "value": referral.code}],
        "status": _REQUEST_STATUS[referral.state],
        "intent": "order",
        "category": [
            {"coding": [{"system": SNOMED, "code": "3457005", "display": "Patient referral"}]}
        ],
        "priority": _REQUEST_PRIORITY.get(referral.priority, "routine"),
        "code": {
            "coding": [{"system": f"{SAHAY_SYSTEM}/referral-kind", "code": referral.kind}],
            "text": referral.kind.replace("_", " "),
        },
        "subject": patient,
        "authoredOn": _instant(referral.created_at),
        "performer": [{"display": performer}],
        "reasonCode": [{"text": referral.reason}],
    }
    return {key: value for key, value in resource.items() if value}


def screening_observation(record: ScreeningRecord, patient: dict[str, str]) -> dict[str, Any]:
    """A screening total as an Observation; PHQ-9 and GAD-7 carry their LOINC codes."""
    code: dict[str, Any] = {"text": f"{record.instrument} total score"}
    if record.instrument in LOINC_TOTALS:
        loinc, display = LOINC_TOTALS[record.instrument]
        code["coding"] = [{"system": LOINC, "code": loinc, "display": display}]
    return {
        "resourceType": "Observation",
        "id": _new_id(),
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                    }
                ]
            }
        ],
        "code": code,
        "subject": patient,
        "effectiveDateTime": _instant(record.created_at),
        "valueInteger": record.total,
        "interpretation": [{"text": record.band}],
    }
