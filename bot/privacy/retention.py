"""The retention job: closed conversations are deleted after SAHAY_RETENTION_DAYS.

A conversation counts as closed when a counsellor or the system closed it, or when it
stayed with the bot and nobody wrote for the whole period. A person left with no
conversation and no referral is then erased altogether, Rasa's tracker included; the
tracker events of people the app no longer knows (an erasure that could not reach the
tracker store at the time) go too. `sahay retention run` runs it from cron; every
gateway replica also runs it every few hours (deleting is idempotent).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, or_, select

from bot.console.audit import record
from bot.core.config import Settings
from bot.privacy import tracker
from bot.privacy.erasure import erase_in_app
from bot.referrals.models import Referral
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, utcnow

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 6 * 3600


@dataclass
class RetentionReport:
    """What one run removed."""

    conversations: int = 0
    people: int = 0
    tracker_events: int = 0

    def describe(self) -> str:
        """One line for the command line and the log."""
        return (
            f"retention: {self.conversations} conversation(s), {self.people} person(s), "
            f"{self.tracker_events} tracker event(s) removed"
        )


def run_retention(*, settings: Settings, now: dt.datetime | None = None) -> RetentionReport:
    """Delete what is past the retention period."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=settings.retention_days)
    report = RetentionReport()
    with session_scope(settings.database_url) as session:
        expired = or_(
            and_(Conversation.state == "closed", Conversation.closed_at < cutoff),
            and_(Conversation.state == "bot", Conversation.last_message_at < cutoff),
        )
        ids = list(session.scalars(select(Conversation.id).where(expired)))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            session.execute(delete(Conversation).where(Conversation.id.in_(chunk)))
        report.conversations = len(ids)
        left_alone = list(
            session.scalars(
                select(Contact.phone_key).where(
                    Contact.created_at < cutoff,
                    ~exists().where(Conversation.contact_id == Contact.id),
                    ~exists().where(Referral.contact_id == Contact.id),
                )
            )
        )
        for key in left_alone:
            erase_in_app(session=session, phone_key=key, actor="retention")
        report.people = len(left_alone)
        if report.conversations:
            record(
                session=session,
                actor="retention",
                action="retention_run",
                target_type="conversation",
                detail=f"{report.conversations} conversation(s) older than "
                f"{settings.retention_days:g} days",
            )
        known = set(session.scalars(select(Contact.phone_key)))
    try:
        report.tracker_events = tracker.erase_orphans(
            tracker_url=settings.tracker_url, known_keys=known
        )
    except Exception as error:  # the next run tries again
        log.error("retention could not reach the tracker store: %s", type(error).__name__)
    return report
