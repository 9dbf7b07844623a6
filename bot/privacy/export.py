"""A person's data, on request, as one JSON document (DPDP Act 2023, section 11).

Everything the app database keeps about the person, decrypted: their number and
language, every conversation with its messages, handoffs, counsellors' notes and
screening results, referrals and consent records, and how many events Rasa's tracker
holds for them. The export itself is written to the audit log (without its content).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from bot.console.audit import record
from bot.core.config import Settings
from bot.handoff.queue import aware
from bot.privacy import tracker
from bot.referrals.models import RecordConsent, Referral
from bot.storage.crypto import decrypt, phone_key
from bot.storage.db import session_scope
from bot.storage.models import (
    CaseNote,
    Contact,
    Conversation,
    Handoff,
    Message,
    ScreeningRecord,
)


class NotFound(Exception):
    """The helpline holds nothing about this number."""


def _when(moment: dt.datetime | None) -> str | None:
    return aware(moment).isoformat() if moment is not None else None


def export_person(*, settings: Settings, phone: str, actor: str) -> dict[str, Any]:
    """Everything held about the person with this number.

    Raises:
        NotFound: no record of the number.
    """
    key = phone_key(phone, secret=settings.phone_hash_key)
    key_of = settings.encryption_key

    with session_scope(settings.database_url) as session:
        contact = session.scalar(select(Contact).where(Contact.phone_key == key))
        if contact is None:
            raise NotFound("no record of this number")
        conversations = []
        for conversation in session.scalars(
            select(Conversation)
            .where(Conversation.contact_id == contact.id)
            .order_by(Conversation.id)
        ):
            messages = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.id)
            )
            handoffs = session.scalars(
                select(Handoff)
                .where(Handoff.conversation_id == conversation.id)
                .order_by(Handoff.id)
            )
            notes = session.scalars(
                select(CaseNote)
                .where(CaseNote.conversation_id == conversation.id)
                .order_by(CaseNote.id)
            )
            screenings = session.scalars(
                select(ScreeningRecord)
                .where(ScreeningRecord.conversation_id == conversation.id)
                .order_by(ScreeningRecord.id)
            )
            conversations.append(
                {
                    "channel": conversation.channel,
                    "state": conversation.state,
                    "language": conversation.language,
                    "district": conversation.district,
                    "state_or_territory": conversation.region_state,
                    "started_at": _when(conversation.started_at),
                    "closed_at": _when(conversation.closed_at),
                    "messages": [
                        {
                            "at": _when(m.created_at),
                            "direction": m.direction,
                            "author": m.author,
                            "text": decrypt(m.body_encrypted, key=key_of),
                            "media_url": m.media_url,
                            "crisis": m.crisis_category,
                        }
                        for m in messages
                    ],
                    "handoffs": [
                        {
                            "reason": h.reason,
                            "priority": h.priority,
                            "state": h.state,
                            "outcome": h.outcome,
                            "created_at": _when(h.created_at),
                            "closed_at": _when(h.closed_at),
                        }
                        for h in handoffs
                    ],
                    "counsellor_notes": [
                        {"at": _when(n.created_at), "text": decrypt(n.body_encrypted, key=key_of)}
                        for n in notes
                    ],
                    "screening_results": [
                        {
                            "instrument": s.instrument,
                            "total": s.total,
                            "band": s.band,
                            "at": _when(s.created_at),
                        }
                        for s in screenings
                    ],
                }
            )
        referrals = [
            {
                "code": r.code,
                "service": r.service,
                "kind": r.kind,
                "state": r.state,
                "consent_to_follow_up": r.consent_followup,
                "created_at": _when(r.created_at),
            }
            for r in session.scalars(select(Referral).where(Referral.contact_id == contact.id))
        ]
        consents = [
            {
                "scopes": c.scopes,
                "recipient": c.recipient,
                "granted_at": _when(c.granted_at),
                "revoked_at": _when(c.revoked_at),
            }
            for c in session.scalars(
                select(RecordConsent).where(RecordConsent.contact_id == contact.id)
            )
        ]
        document: dict[str, Any] = {
            "phone": decrypt(contact.phone_encrypted, key=key_of),
            "preferred_language": contact.preferred_language,
            "first_contact_at": _when(contact.created_at),
            "conversations": conversations,
            "referrals": referrals,
            "consents": consents,
        }
        record(
            session=session,
            actor=actor,
            action="export_person",
            target_type="contact",
            target_id=contact.id,
        )
    try:
        document["bot_memory_events"] = tracker.count_events(
            tracker_url=settings.tracker_url, sender_key=key
        )
    except Exception:  # the export of the app's records stands on its own
        document["bot_memory_events"] = None
    return document
