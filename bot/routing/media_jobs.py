"""Media the WhatsApp webhook could not fetch or hear in time, finished in the background.

Twilio waits at most 15 seconds for a webhook's answer. The webhook therefore fetches a
message's media and hears its voice note only within a budget (`inline_budget`,
SAHAY_MEDIA_INLINE_SECONDS); what is not done by then is marked `pending`, stored with
the message as a `MediaJob` in the same transaction, and the person is told at once
("I got your voice message, I am listening to it now"). The job then:

- fetches the media with the account's credentials and keeps it encrypted, as the
  webhook would have; a fetch that keeps failing (SAHAY_MEDIA_FETCH_ATTEMPTS tries in
  all, a few seconds apart and further each time) ends in a counsellor's queue with a
  kind reply;
- hears the voice note and answers its words through the path typed text takes
  (`handle_heard`: the crisis detector first, then Rasa); the replies go out as
  messages the helpline starts (`send_to_person`, so discreet mode and a quick exit
  hold). Nothing heard: the kind reply with three choices, as without a speech service.

Order. While its words are awaited, the voice note is held as claimed (`retrying`, in
`bot.routing.retry`'s terms), so that a text sent meanwhile queues behind it exactly as
behind a message Rasa has not answered yet, and is answered after it by the retries.
Every sweep refreshes these holds, well within the two minutes after which the retries
take a claim for a dead one.

Durability. A job is claimed with a compare-and-set on its state and claim token, so
two gateway replicas never both work on it; the worker's claim is refreshed every sweep
and checked again before anything is stored; a stopping gateway gives its jobs back;
a claim nobody refreshed for a while (`lease`) belongs to a gateway that died, and the
next sweep takes the job over. A gateway that died while the words were being answered
cannot know how far it got: crisis words are answered again (the crisis reply twice is
better than none), other words go to the retries, which ask Rasa first whether it saw
them (`RasaClient.replies_to`).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as StillRunning
from dataclasses import dataclass, field, replace

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from bot.contact_safety.service import EXITED_FOR_SAFETY
from bot.core.config import Settings
from bot.handoff.queue import aware
from bot.handoff.service import request_handoff
from bot.rasa_client import RasaClient
from bot.responses import ResponseCatalogue
from bot.routing.media import (
    InboundMedia,
    Transcript,
    fetch_attachment,
    hear_voice_note,
    keep_attachment,
    needs_fetching,
    postponed,
    prepare_inbound,
    purge_expired_media,
    say_late,
)
from bot.routing.retry import ANSWERED_LATE, HANDED_OVER, RETRYING, mark_pending
from bot.routing.service import OPEN_STATES, InboundMessage, handle_heard
from bot.safety import assess
from bot.speech import transcriber_for
from bot.storage.crypto import decrypt, encrypt
from bot.storage.db import session_scope
from bot.storage.models import MediaJob, Message, utcnow

log = logging.getLogger(__name__)

WAITING = "waiting"  # for its next attempt
WORKING = "working"  # claimed: being fetched and heard
ROUTING = "routing"  # claimed: its words are being answered

# Twilio gives up on a webhook after 15 s; the rest of the turn needs some of them.
WEBHOOK_SECONDS = 15.0
WEBHOOK_MARGIN_SECONDS = 2.0
# After a failed fetch: 5 s, then 15 s, 45 s, ...
FIRST_RETRY = dt.timedelta(seconds=5)
RETRY_FACTOR = 3
# A claim not refreshed for this long (at least) belongs to a gateway that died.
MIN_LEASE = dt.timedelta(seconds=60)
PURGE_EVERY = dt.timedelta(minutes=15)
# Threads for the webhooks' attempts and the background jobs; at most half on the latter.
WORKERS = 16
MEDIA_UNAVAILABLE = "media_unavailable"  # the handoff's reason when media never came


def inline_budget(settings: Settings) -> float:
    """Seconds the webhook may spend fetching and hearing: SAHAY_MEDIA_INLINE_SECONDS at
    most, and never so long that Rasa's own timeout could take the answer past Twilio's."""
    left = WEBHOOK_SECONDS - WEBHOOK_MARGIN_SECONDS - settings.rasa_timeout_seconds
    return max(0.0, min(settings.media_inline_seconds, left))


def lease(settings: Settings) -> dt.timedelta:
    """How long a claim lasts without being refreshed (each sweep refreshes it)."""
    return max(MIN_LEASE, 3 * dt.timedelta(seconds=settings.media_sweep_seconds))


@dataclass(frozen=True)
class Attachment:
    """One attachment a job still has to fetch."""

    url: str
    content_type: str
    kind: str

    def as_inbound(self) -> InboundMedia:
        """As the webhook's routing describes attachments."""
        return InboundMedia(url=self.url, content_type=self.content_type)


@dataclass(frozen=True)
class ClaimedJob:
    """A job this process holds, with the token that proves it still does."""

    id: int
    message_id: int
    token: str
    hear: bool
    attachments: tuple[Attachment, ...]
    attempts: int
    # Claimed from a gateway that died while answering its words.
    recovering: bool = False


@dataclass
class MediaJobReport:
    """What one sweep did, by outcome ("answered", "retrying", "handed_over", ...)."""

    outcomes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        """Count one job's outcome."""
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


# --- claiming --------------------------------------------------------------------------


def claim(
    *, settings: Settings, job_id: int, now: dt.datetime, adopting: bool = False
) -> ClaimedJob | None:
    """Take a job that is due (or, `adopting`, one the webhook just left): None when it is
    not due or another process took it first."""
    token = secrets.token_hex(8)
    stale = now - lease(settings)
    with session_scope(settings.database_url) as session:
        job = session.get(MediaJob, job_id)
        if job is None:
            return None
        free: ColumnElement[bool]
        if job.state == WAITING:
            if not (adopting or aware(job.next_attempt_at) <= now):
                return None
            free = MediaJob.claimed_by.is_(None)
        else:
            if adopting or (job.claimed_at is not None and aware(job.claimed_at) >= stale):
                return None
            free = (MediaJob.claimed_by == job.claimed_by) & (
                MediaJob.claimed_at.is_(None) | (MediaJob.claimed_at < stale)
            )
        recovering = job.state == ROUTING
        taken = session.execute(
            update(MediaJob)
            .where(MediaJob.id == job.id, MediaJob.state == job.state, free)
            .values(
                state=ROUTING if recovering else WORKING,
                claimed_by=token,
                claimed_at=now,
                attempts=MediaJob.attempts + (0 if recovering else 1),
            )
            .execution_options(synchronize_session=False)
        )
        if int(getattr(taken, "rowcount", 0) or 0) != 1:
            return None
        return ClaimedJob(
            id=job.id,
            message_id=job.message_id,
            token=token,
            hear=job.hear,
            attachments=tuple(Attachment(**item) for item in job.items),
            attempts=job.attempts + (0 if recovering else 1),
            recovering=recovering,
        )


def claim_due(*, settings: Settings, now: dt.datetime, limit: int) -> list[ClaimedJob]:
    """Claim up to `limit` jobs that are due, oldest first."""
    stale = now - lease(settings)
    with session_scope(settings.database_url) as session:
        due = list(
            session.scalars(
                select(MediaJob.id)
                .where(
                    ((MediaJob.state == WAITING) & (MediaJob.next_attempt_at <= now))
                    | ((MediaJob.state != WAITING) & (MediaJob.claimed_at < stale))
                )
                .order_by(MediaJob.id)
                .limit(limit)
            )
        )
    claimed = (claim(settings=settings, job_id=job_id, now=now) for job_id in due)
    return [job for job in claimed if job is not None]


def claim_for_message(*, settings: Settings, message_sid: str) -> ClaimedJob | None:
    """The job the webhook just stored for this message, claimed by its own process."""
    with session_scope(settings.database_url) as session:
        job_id = session.scalar(
            select(MediaJob.id)
            .join(Message, MediaJob.message_id == Message.id)
            .where(Message.twilio_sid == message_sid)
        )
    if job_id is None:
        return None
    return claim(settings=settings, job_id=job_id, now=utcnow(), adopting=True)


def refresh(*, settings: Settings, jobs: list[ClaimedJob], now: dt.datetime) -> None:
    """Keep this process's claims, and every held voice note's hold, from going stale."""
    with session_scope(settings.database_url) as session:
        for job in jobs:
            _still_mine(session=session, job=job, now=now)
        session.execute(
            update(Message)
            .where(
                Message.delivery_status == RETRYING,
                Message.id.in_(select(MediaJob.message_id).where(MediaJob.hear)),
            )
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )


def release(*, settings: Settings, jobs: list[ClaimedJob]) -> None:
    """Give back the jobs still being fetched (a stopping gateway): due again at once."""
    with session_scope(settings.database_url) as session:
        for job in jobs:
            session.execute(
                update(MediaJob)
                .where(
                    MediaJob.id == job.id,
                    MediaJob.claimed_by == job.token,
                    MediaJob.state == WORKING,
                )
                .values(state=WAITING, claimed_by=None, claimed_at=None, next_attempt_at=utcnow())
                .execution_options(synchronize_session=False)
            )


def _still_mine(*, session: Session, job: ClaimedJob, now: dt.datetime) -> bool:
    """Refresh the claim; False when another process holds the job now (or it is gone).

    Done first in every transaction that stores a job's results: the row stays locked
    until the commit, so the claim cannot be taken meanwhile.
    """
    kept = session.execute(
        update(MediaJob)
        .where(MediaJob.id == job.id, MediaJob.claimed_by == job.token)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(kept, "rowcount", 0) or 0) == 1


# --- working ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sender:
    """Who sent the job's message, and where: what hearing and answering need."""

    sid: str
    channel: str
    address: str
    language: str | None


def work(
    *,
    settings: Settings,
    rasa: RasaClient,
    catalogue: ResponseCatalogue,
    job: ClaimedJob,
    prepared: InboundMessage | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Finish one claimed job as far as it can go now; returns what became of it.

    Args:
        prepared: the webhook's own attempt at the message (fetched media, heard words),
            when it ended after the webhook had answered; used instead of trying again.
    """
    if job.recovering:
        return _recover(settings=settings, rasa=rasa, catalogue=catalogue, job=job, now=now)
    sender = _sender(settings=settings, job=job) if job.hear else None
    if job.hear and sender is None:
        return "gone"  # erased meanwhile, with its job
    media = _attempt(settings=settings, job=job, prepared=prepared)
    heard: Transcript | None = None
    if sender is not None:
        if prepared is not None:
            heard = prepared.transcript
        else:
            inbound = InboundMessage(
                channel=sender.channel,
                address=sender.address,
                text="",
                message_sid=sender.sid,
                media=tuple(item for item, _ in media),
            )
            heard = hear_voice_note(
                settings=settings,
                inbound=inbound,
                transcriber=transcriber_for(settings),
                language=sender.language,
            ).transcript
    outcome = _store(
        settings=settings, catalogue=catalogue, job=job, media=media, heard=heard, now=now
    )
    if outcome != ROUTING or heard is None or sender is None:
        return outcome
    _answer(settings=settings, rasa=rasa, catalogue=catalogue, job=job, sender=sender, heard=heard)
    _conclude(settings=settings, job=job, now=now)
    return "answered"


def _sender(*, settings: Settings, job: ClaimedJob) -> _Sender | None:
    with session_scope(settings.database_url) as session:
        message = session.get(Message, job.message_id)
        if message is None:
            return None
        conversation = message.conversation
        contact = conversation.contact
        return _Sender(
            sid=message.twilio_sid or "",
            channel=conversation.channel,
            address=decrypt(contact.phone_encrypted, key=settings.encryption_key),
            language=contact.preferred_language or conversation.language,
        )


def _attempt(
    *, settings: Settings, job: ClaimedJob, prepared: InboundMessage | None
) -> list[tuple[InboundMedia, str]]:
    """Each attachment after this attempt (fetched, `pending`, or neither), with its kind."""
    earlier = {item.url: item for item in prepared.media} if prepared is not None else {}
    results = []
    for attachment in job.attachments:
        if prepared is not None:
            item = earlier.get(attachment.url, replace(attachment.as_inbound(), pending=True))
        else:
            item = fetch_attachment(settings, attachment.as_inbound())
        results.append((item, attachment.kind))
    return results


def _store(
    *,
    settings: Settings,
    catalogue: ResponseCatalogue,
    job: ClaimedJob,
    media: list[tuple[InboundMedia, str]],
    heard: Transcript | None,
    now: dt.datetime | None,
) -> str:
    """Keep what was fetched and decide what comes next, in one transaction."""
    moment = now or utcnow()
    with session_scope(settings.database_url) as session:
        if not _still_mine(session=session, job=job, now=moment):
            return "lost"  # another process took the job over
        message = session.get(Message, job.message_id)
        if message is None:
            return "gone"
        conversation = message.conversation
        for item, kind in media:
            if item.data is not None:
                keep_attachment(
                    session=session,
                    settings=settings,
                    message=message,
                    kind=kind,
                    content_type=item.content_type,
                    data=item.data,
                )
        left = [(item, kind) for item, kind in media if item.pending]
        record = session.get(MediaJob, job.id)
        assert record is not None  # locked by _still_mine
        record.items = [
            {"url": item.url, "content_type": item.content_type, "kind": kind}
            for item, kind in left
        ]
        exhausted = bool(left) and job.attempts >= settings.media_fetch_attempts
        if job.hear and any(kind == "audio" for _, kind in left) and not exhausted:
            _wait(record, now=moment)
            return "retrying"  # the voice note itself did not come: try again later
        if job.hear and heard is not None:
            # Kept now, so that a gateway dying while answering leaves the words behind.
            message.body_encrypted = encrypt(heard.text, key=settings.encryption_key)
            if conversation.closed_reason != EXITED_FOR_SAFETY:
                record.state = ROUTING
                return ROUTING
            # The person left the conversation for safety before the words were heard:
            # nothing more reaches them; what they said stays on the record.
            crisis = assess(heard.text)
            message.crisis_category = crisis.category
            message.crisis_risk = crisis.risk
            message.crisis_rule = crisis.rule
            _release_hold(session=session, message_id=message.id, status=ANSWERED_LATE)
            record.hear = False
        elif job.hear and not exhausted:
            # Nothing could be heard (or the voice note cannot be had): as without a
            # speech service, three kind choices, unless a counsellor holds the chat.
            _release_hold(session=session, message_id=message.id, status=ANSWERED_LATE)
            record.hear = False
            if conversation.state == "bot":
                say_late(
                    session=session,
                    settings=settings,
                    catalogue=catalogue,
                    conversation=conversation,
                    response="utter_voice_unsupported",
                )
        if exhausted:
            _give_up(session=session, settings=settings, catalogue=catalogue, job=job)
            session.delete(record)
            return "handed_over"
        if left:
            _wait(record, now=moment)
            return "retrying"
        session.delete(record)
        if not job.hear:
            return "kept"
        return "unheard" if heard is None else "left_for_safety"


def _answer(
    *,
    settings: Settings,
    rasa: RasaClient,
    catalogue: ResponseCatalogue,
    job: ClaimedJob,
    sender: _Sender,
    heard: Transcript,
) -> None:
    """The words, answered as typed text would be (crisis detector first, then Rasa)."""
    inbound = InboundMessage(
        channel=sender.channel,
        address=sender.address,
        text=heard.text,
        message_sid=sender.sid,
        transcript=heard,
    )
    handle_heard(
        settings=settings,
        rasa=rasa,
        catalogue=catalogue,
        inbound=inbound,
        message_id=job.message_id,
    )


def _conclude(*, settings: Settings, job: ClaimedJob, now: dt.datetime | None) -> None:
    """The words are answered: let the conversation go on; the job ends (or fetches on)."""
    moment = now or utcnow()
    with session_scope(settings.database_url) as session:
        if not _still_mine(session=session, job=job, now=moment):
            return
        # Unless the answer itself is waiting for Rasa (then the retries have it).
        _release_hold(session=session, message_id=job.message_id, status=ANSWERED_LATE)
        record = session.get(MediaJob, job.id)
        if record is None:
            return
        if record.items:
            record.hear = False
            _wait(record, now=moment)
        else:
            session.delete(record)


def _recover(
    *,
    settings: Settings,
    rasa: RasaClient,
    catalogue: ResponseCatalogue,
    job: ClaimedJob,
    now: dt.datetime | None,
) -> str:
    """A gateway died while answering this voice note's words: finish its turn."""
    moment = now or utcnow()
    with session_scope(settings.database_url) as session:
        if not _still_mine(session=session, job=job, now=moment):
            return "lost"
        message = session.get(Message, job.message_id)
        if message is None:
            return "gone"
        words = decrypt(message.body_encrypted, key=settings.encryption_key)
        if not assess(words).is_crisis:
            if message.delivery_status == RETRYING:
                # Rasa may have answered already: the retries ask it before sending again.
                mark_pending(session=session, message_id=message.id, payload=None, attempted=True)
            record = session.get(MediaJob, job.id)
            if record is not None:
                record.hear = False
                if record.items:
                    _wait(record, now=moment)
                else:
                    session.delete(record)
            return "requeued"
    sender = _sender(settings=settings, job=job)
    if sender is None:
        return "gone"
    heard = Transcript(text=words, confidence=None)
    _answer(settings=settings, rasa=rasa, catalogue=catalogue, job=job, sender=sender, heard=heard)
    _conclude(settings=settings, job=job, now=now)
    return "answered"


def _give_up(
    *, session: Session, settings: Settings, catalogue: ResponseCatalogue, job: ClaimedJob
) -> None:
    """The media never came: a counsellor is asked to look, and the person is told."""
    message = session.get(Message, job.message_id)
    assert message is not None
    conversation = message.conversation
    if job.hear:
        _release_hold(session=session, message_id=message.id, status=HANDED_OVER)
    if conversation.state not in OPEN_STATES:
        return  # left (perhaps for safety) meanwhile: nothing more to say
    told_by_counsellor = conversation.state == "with_counsellor"
    request_handoff(
        session=session,
        conversation=conversation,
        priority="normal",
        reason=MEDIA_UNAVAILABLE,
        actor="media",
    )
    if not told_by_counsellor:
        say_late(
            session=session,
            settings=settings,
            catalogue=catalogue,
            conversation=conversation,
            response="utter_media_unavailable",
        )


def _release_hold(*, session: Session, message_id: int, status: str) -> None:
    session.execute(
        update(Message)
        .where(Message.id == message_id, Message.delivery_status == RETRYING)
        .values(delivery_status=status)
        .execution_options(synchronize_session=False)
    )


def _wait(record: MediaJob, *, now: dt.datetime) -> None:
    """Due again after a pause that grows with every attempt."""
    record.state = WAITING
    record.claimed_by = None
    record.claimed_at = None
    record.next_attempt_at = now + FIRST_RETRY * RETRY_FACTOR ** max(0, record.attempts - 1)


# --- sweeping --------------------------------------------------------------------------


def run_media_jobs(
    *,
    settings: Settings,
    rasa: RasaClient,
    catalogue: ResponseCatalogue,
    now: dt.datetime | None = None,
    limit: int = 50,
) -> MediaJobReport:
    """One pass in the calling thread: refresh the holds, then finish every job due."""
    now = now or utcnow()
    report = MediaJobReport()
    refresh(settings=settings, jobs=[], now=now)
    for job in claim_due(settings=settings, now=now, limit=limit):
        try:
            report.count(work(settings=settings, rasa=rasa, catalogue=catalogue, job=job, now=now))
        except Exception as error:  # one job must not stop the others
            log.exception("media job %s failed", job.id)
            report.errors.append(f"{job.id}: {type(error).__name__}")
    return report


def _already_stored(*, settings: Settings, message_sid: str) -> bool:
    with session_scope(settings.database_url) as session:
        found = session.scalar(select(Message.id).where(Message.twilio_sid == message_sid))
        return found is not None


class MediaJobRunner:
    """Each gateway's media worker: the webhook's budgeted attempt, then the background.

    A daemon thread sweeps every SAHAY_MEDIA_SWEEP_SECONDS (refreshing claims and holds,
    taking up due jobs, purging media past its retention every quarter of an hour); the
    fetching, hearing and answering run on a thread pool.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        rasa: RasaClient,
        catalogue: ResponseCatalogue,
        on_answered: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.rasa = rasa
        self.catalogue = catalogue
        self._on_answered = on_answered
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="sahay-media")
        self._working: dict[int, ClaimedJob] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._purged_at: dt.datetime | None = None

    # --- the webhook's side ---

    def prepare(
        self, *, inbound: InboundMessage
    ) -> tuple[InboundMessage, Future[InboundMessage] | None]:
        """Fetch and hear the message's media within the webhook's budget.

        Returns:
            The message as far as it got, with what is left marked `pending`; and, when
            something is left, the attempt (still running, or ended in a failure worth
            another try), for `adopt` once the message is stored.
        """
        settings = self.settings
        if not inbound.media:
            return inbound, None
        if not needs_fetching(settings=settings, inbound=inbound):
            return self._prepare_now(inbound), None
        if _already_stored(settings=settings, message_sid=inbound.message_sid):
            return inbound, None  # Twilio trying again: answered as a duplicate
        attempt = self._pool.submit(self._prepare_now, inbound)
        try:
            prepared = attempt.result(timeout=inline_budget(settings))
        except StillRunning:
            return postponed(settings=settings, inbound=inbound), attempt
        if any(item.pending for item in prepared.media):
            return prepared, attempt
        return prepared, None

    def _prepare_now(self, inbound: InboundMessage) -> InboundMessage:
        return prepare_inbound(
            settings=self.settings, inbound=inbound, transcriber=transcriber_for(self.settings)
        )

    def adopt(self, attempt: Future[InboundMessage], *, message_sid: str, rasa: RasaClient) -> None:
        """Finish in the background the job the webhook just stored for the message, with
        the attempt it started (nothing to do when the turn stored no job: a duplicate)."""
        job = claim_for_message(settings=self.settings, message_sid=message_sid)
        if job is None:
            return
        self._track(job)

        def attempted(done: Future[InboundMessage]) -> None:
            prepared = None if done.cancelled() or done.exception() else done.result()
            self._submit(job, rasa=rasa, prepared=prepared)

        attempt.add_done_callback(attempted)

    # --- the background ---

    def start(self) -> None:
        """Refresh the holds now (before the retries start: see the module's notes) and
        purge; then sweep every SAHAY_MEDIA_SWEEP_SECONDS."""
        self._sweep(take_jobs=False)
        self._thread = threading.Thread(target=self._loop, name="sahay-media-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sweeping and give back the jobs still being fetched."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            working = list(self._working.values())
        try:
            release(settings=self.settings, jobs=working)
        except Exception:  # the next gateway takes them up when their claims go stale
            log.exception("could not give back media jobs")
        self._pool.shutdown(wait=False, cancel_futures=True)

    def join(self) -> None:
        """Wait for the work already started to end (after `stop`; for tests)."""
        self._pool.shutdown(wait=True)

    def sweep_now(self) -> None:
        """One sweep, in the calling thread."""
        self._sweep()

    def busy(self) -> int:
        """How many jobs this gateway holds right now."""
        with self._lock:
            return len(self._working)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.media_sweep_seconds):
            self._sweep()

    def _sweep(self, *, take_jobs: bool = True) -> None:
        now = utcnow()
        try:
            with self._lock:
                working = list(self._working.values())
            refresh(settings=self.settings, jobs=working, now=now)
            if self._purged_at is None or now - self._purged_at >= PURGE_EVERY:
                with session_scope(self.settings.database_url) as session:
                    purged = purge_expired_media(session=session, now=now)
                self._purged_at = now
                if purged:
                    log.info("deleted %d media item(s) past their retention", purged)
            room = WORKERS // 2 - len(working)
            if take_jobs and room > 0 and not self._stop.is_set():
                for job in claim_due(settings=self.settings, now=now, limit=room):
                    self._track(job)
                    self._submit(job, rasa=self.rasa, prepared=None)
        except Exception:  # the sweep must survive a database outage
            log.exception("media sweep failed")

    def _track(self, job: ClaimedJob) -> None:
        with self._lock:
            self._working[job.id] = job

    def _submit(
        self, job: ClaimedJob, *, rasa: RasaClient, prepared: InboundMessage | None
    ) -> None:
        try:
            self._pool.submit(self._run, job, rasa, prepared)
        except RuntimeError:  # stopping: the job was given back
            self._untrack(job)

    def _untrack(self, job: ClaimedJob) -> None:
        with self._lock:
            self._working.pop(job.id, None)

    def _run(self, job: ClaimedJob, rasa: RasaClient, prepared: InboundMessage | None) -> None:
        if self._stop.is_set():
            return  # given back by `stop`
        try:
            outcome = work(
                settings=self.settings,
                rasa=rasa,
                catalogue=self.catalogue,
                job=job,
                prepared=prepared,
            )
            log.info("media job %s: %s", job.id, outcome)
        except Exception:
            log.exception("media job %s failed", job.id)
        finally:
            self._untrack(job)
        if self._on_answered is not None:
            self._on_answered()  # a message held behind the voice note may go on now
