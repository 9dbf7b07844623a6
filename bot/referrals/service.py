"""Creating referrals and moving them through their lifecycle, with history."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge.service_store import nearest_services
from bot.referrals.lifecycle import (
    FINAL_STATES,
    PRIORITIES,
    SERVICE_TYPE,
    ReferralKind,
    ReferralState,
    check_transition,
    followup_times,
)
from bot.referrals.models import FollowUp, RecordConsent, Referral, ReferralEvent
from bot.storage.models import Contact, Conversation, utcnow

# No 0/O or 1/I: the code is read out over the phone.
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_code() -> str:
    """A reference code such as "SR-7K3QX9"."""
    return "SR-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class ServiceChoice:
    """A service a referral may go to: an office of the directory or a national line.

    Attributes:
        key: Stable within the directory: what a console form sends back.
        level: "district" or "state" for offices found there, "national" for a line.
        place: The office's district (or state); None for a national line.
    """

    key: str
    name: str
    address: str | None
    phone: str | None
    level: str
    place: str | None


def service_choices(
    *, session: Session, kind: ReferralKind | str, district: str | None, state: str | None
) -> list[ServiceChoice]:
    """Where a referral of this kind may go, nearest first: offices, then national lines.

    Offices come from the directory for the district, falling back to the state; the
    national lines that serve the same need always follow.
    """
    found = nearest_services(
        session=session,
        service_type=SERVICE_TYPE[ReferralKind(kind)],
        district=district,
        state=state,
    )
    helpline_phone = found.helplines[0].number if found.helplines else None
    offices = [
        ServiceChoice(
            key=_choice_key(office.service_type, office.state, office.district, office.name),
            name=office.name,
            address=office.address or None,
            phone="; ".join(office.phones) or helpline_phone,
            level=found.level,
            place=office.district or office.state,
        )
        for office in found.services
    ]
    lines = [
        ServiceChoice(
            key=f"line:{line.id}",
            name=line.purpose.en.split(" - ")[0],
            address=None,
            phone=line.number,
            level="national",
            place=None,
        )
        for line in found.helplines
    ]
    return offices + lines


#: Where a referral goes when the directory has nothing at all (not expected).
_NOBODY = ServiceChoice(
    key="none", name="Sahay", address=None, phone=None, level="national", place=None
)


def _choice_key(*parts: str | None) -> str:
    joined = "\x1f".join(part or "" for part in parts)
    return "office:" + hashlib.sha256(joined.encode()).hexdigest()[:16]


def create_referral(
    *,
    session: Session,
    conversation: Conversation,
    kind: ReferralKind | str,
    reason: str,
    created_by: str,
    consent_followup: bool,
    priority: str = "normal",
    visibility: str = "team",
    service: ServiceChoice | None = None,
    now: dt.datetime | None = None,
) -> Referral:
    """Refer the conversation's person to a service of the kind they need.

    The service is `service` when a counsellor chose one, else the nearest: the directory
    for the conversation's district, falling back to the state and then to a national
    helpline. Check-ins are planned only when the person agreed to them.
    """
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}")
    kind = ReferralKind(kind)
    now = now or utcnow()
    if service is None:
        choices = service_choices(
            session=session,
            kind=kind,
            district=conversation.district,
            state=conversation.region_state,
        )
        service = choices[0] if choices else _NOBODY
    referral = Referral(
        code=_unused_code(session),
        contact_id=conversation.contact_id,
        conversation_id=conversation.id,
        kind=kind.value,
        service_type=SERVICE_TYPE[kind].value,
        service=service.name,
        service_address=service.address,
        service_phone=service.phone,
        service_level=service.level,
        district=conversation.district,
        region_state=conversation.region_state,
        language=conversation.language,
        priority=priority,
        reason=reason,
        state=ReferralState.CREATED.value,
        consent_followup=consent_followup,
        visibility=visibility,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    referral.events.append(
        ReferralEvent(from_state=None, to_state="created", actor=created_by, note=reason, at=now)
    )
    if consent_followup:
        for purpose, due_at in followup_times(kind, now):
            referral.followups.append(FollowUp(purpose=purpose, due_at=due_at, status="due"))
    session.add(referral)
    session.flush()
    if consent_followup:
        # Imported here: contact_safety reads the referrals' check-ins to cancel them.
        from bot.contact_safety.service import record_consent

        record_consent(
            session=session,
            contact=conversation.contact,
            purpose="followup",
            granted=True,
            source=f"referral {referral.code} ({created_by})",
        )
    return referral


def _unused_code(session: Session) -> str:
    while True:
        code = new_code()
        if session.scalar(select(Referral.id).where(Referral.code == code)) is None:
            return code


def move_referral(
    *,
    session: Session,
    referral: Referral,
    to_state: ReferralState | str,
    actor: str,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> Referral:
    """Move a referral to another state, recording who and when.

    Raises:
        InvalidTransition: the lifecycle does not allow the move.
    """
    target = check_transition(referral.state, str(to_state))
    now = now or utcnow()
    referral.events.append(
        ReferralEvent(
            from_state=referral.state, to_state=target.value, actor=actor, note=note, at=now
        )
    )
    referral.state = target.value
    referral.updated_at = now
    if target in FINAL_STATES:
        referral.closed_at = now
        for followup in referral.followups:
            if followup.status == "due":
                followup.status = "skipped"
                followup.detail = f"referral {target.value}"
    session.flush()
    return referral


def note_referral(
    *, session: Session, referral: Referral, actor: str, note: str, now: dt.datetime | None = None
) -> None:
    """Record something that happened without changing the state (e.g. "not reached yet")."""
    now = now or utcnow()
    referral.events.append(
        ReferralEvent(
            from_state=referral.state, to_state=referral.state, actor=actor, note=note, at=now
        )
    )
    referral.updated_at = now
    session.flush()


def record_consent(
    *,
    session: Session,
    contact: Contact,
    scopes: list[str],
    recorded_by: str,
    recipient: str | None = None,
    now: dt.datetime | None = None,
) -> RecordConsent:
    """Record that the person agreed to their records travelling to another service."""
    consent = RecordConsent(
        contact_id=contact.id,
        scopes=sorted(set(scopes)),
        recipient=recipient,
        recorded_by=recorded_by,
        granted_at=now or utcnow(),
    )
    session.add(consent)
    session.flush()
    return consent


def revoke_consents(*, session: Session, contact: Contact, now: dt.datetime | None = None) -> int:
    """Withdraw every consent to share the person's records; how many were active."""
    active = active_consents(session=session, contact_id=contact.id)
    for consent in active:
        consent.revoked_at = now or utcnow()
    return len(active)


def active_consents(*, session: Session, contact_id: int) -> list[RecordConsent]:
    """The person's consents to share records that are not withdrawn."""
    return list(
        session.scalars(
            select(RecordConsent)
            .where(RecordConsent.contact_id == contact_id, RecordConsent.revoked_at.is_(None))
            .order_by(RecordConsent.id)
        )
    )


def referrals_of(*, session: Session, contact_id: int) -> list[Referral]:
    """The person's referrals, newest first."""
    return list(
        session.scalars(
            select(Referral).where(Referral.contact_id == contact_id).order_by(Referral.id.desc())
        )
    )


def latest_conversation(*, session: Session, sender_key: str) -> Conversation | None:
    """The sender's newest conversation that is not closed."""
    return session.scalar(
        select(Conversation)
        .join(Contact)
        .where(Contact.phone_key == sender_key, Conversation.state != "closed")
        .order_by(Conversation.id.desc())
        .limit(1)
    )
