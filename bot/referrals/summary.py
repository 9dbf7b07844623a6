"""The referrals section of a counsellor's case summary."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.handoff.summary import SummaryItem
from bot.referrals.models import FollowUp, Referral
from bot.storage.models import Conversation


def referral_items(session: Session, conversation: Conversation) -> list[SummaryItem] | None:
    """The person's referrals, newest first: service and code; state, need, next check-in.

    Only those the whole team may see: the summary does not know who reads it, and
    supervisors find restricted referrals in the case's referrals panel.
    """
    referrals = session.scalars(
        select(Referral)
        .where(Referral.contact_id == conversation.contact_id, Referral.visibility == "team")
        .order_by(Referral.id.desc())
        .limit(10)
    ).all()
    items = []
    for referral in referrals:
        value = f"{referral.state} · {referral.kind.replace('_', ' ')} · {referral.priority}"
        due = session.scalar(
            select(FollowUp.due_at)
            .where(FollowUp.referral_id == referral.id, FollowUp.status == "due")
            .order_by(FollowUp.due_at)
            .limit(1)
        )
        if due is not None:
            value += f" · check-in {due:%Y-%m-%d}"
        items.append(SummaryItem(label=f"{referral.service} ({referral.code})", value=value))
    return items or None
