"""Messages that arrive while the database is down: answered, kept on disk, stored later.

A message must be stored before it is processed, and a person in crisis must get the
crisis reply even when the database is unreachable. So when the first write fails, the
gateway still reads the message with the crisis detector, answers (the crisis reply, or
the fallback in the person's language with the helpline numbers) and writes the message
to its spool folder, encrypted with the data key, one file per message (written to a
temporary name, flushed, then renamed: a crash leaves no half file). Every replica's
retry loop replays the spool into the database as soon as it answers again; the
MessageSid's unique constraint makes a replay idempotent, and with Redis a Twilio retry
that reaches another replica during the outage is recognised there too.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import redis
from sqlalchemy.orm import Session

from bot.core.config import Settings
from bot.handoff.service import request_handoff
from bot.routing.choices import decide_turn
from bot.routing.retry import ANSWERED, PENDING, RECEIVED
from bot.safety import assess
from bot.storage.crypto import decrypt, encrypt
from bot.storage.models import Message

log = logging.getLogger(__name__)

SUFFIX = ".msg"
SEEN_SECONDS = 24 * 3600


@dataclass(frozen=True)
class SpooledMessage:
    """An inbound message as it was received, with the crisis decision already taken."""

    channel: str
    address: str
    text: str
    message_sid: str
    media_urls: tuple[str, ...]
    crisis: bool
    language: str | None


def spool_folder(settings: Settings) -> Path:
    """Where this process keeps messages it could not store."""
    folder = Path(settings.spool_dir)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def first_time_seen(*, settings: Settings, message_sid: str) -> bool:
    """Whether no replica spooled this MessageSid before (always True without Redis)."""
    if not settings.redis_url:
        return True
    try:
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=1, socket_connect_timeout=1
        )
        try:
            return bool(client.set(f"sahay:spooled:{message_sid}", 1, nx=True, ex=SEEN_SECONDS))
        finally:
            client.close()
    except redis.RedisError:
        return True  # the database replay still drops the duplicate


def write(*, settings: Settings, message: SpooledMessage) -> Path:
    """Keep the message on disk, encrypted, until the database is back."""
    folder = spool_folder(settings)
    payload = json.dumps(asdict(message), ensure_ascii=False)
    token = encrypt(payload, key=settings.encryption_key)
    # Named by time of arrival, unique across processes sharing the folder.
    name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
    temporary = folder / f".{name}.tmp"
    with temporary.open("wb") as handle:
        handle.write(token)
        handle.flush()
        os.fsync(handle.fileno())
    final = folder / name
    temporary.rename(final)
    return final


def pending_files(settings: Settings) -> list[Path]:
    """Spooled messages, oldest first."""
    folder = Path(settings.spool_dir)
    if not folder.exists():
        return []
    return sorted(folder.glob(f"*{SUFFIX}"))


def replay(*, settings: Settings) -> int:
    """Store every spooled message (oldest first); returns how many were stored now.

    Stops at the first database error: the rest wait for the next run.
    """
    from bot.routing.service import store_replayed  # the service imports this module

    stored = 0
    for path in pending_files(settings):
        claimed = path.with_suffix(f".replaying-{os.getpid()}")
        try:
            path.rename(claimed)  # another replica sharing the folder may take it first
        except FileNotFoundError:
            continue
        try:
            fields = json.loads(decrypt(claimed.read_bytes(), key=settings.encryption_key))
            fields["media_urls"] = tuple(fields.get("media_urls") or ())
            message = SpooledMessage(**fields)
            if store_replayed(settings=settings, message=message):
                stored += 1
        except Exception:
            claimed.rename(path)  # not stored: back in the queue
            raise
        claimed.unlink()
    return stored


def conclude_replayed(*, session: Session, stored: Message, message: SpooledMessage) -> None:
    """After a replayed message is stored: the crisis handoff, or a retry through Rasa."""
    if message.crisis:
        conversation = stored.conversation
        request_handoff(
            session=session,
            conversation=conversation,
            priority="urgent",
            reason="crisis:replayed",
            actor="crisis-detector",
        )
        stored.delivery_status = ANSWERED  # the crisis reply went out during the outage
    else:
        stored.delivery_status = PENDING


def requeue_if_unconcluded(*, session: Session, existing: Message | None) -> None:
    """A message stored before the database failed mid-turn: let the retry loop finish it."""
    if existing is not None and existing.delivery_status == RECEIVED:
        existing.delivery_status = PENDING


def language_guess(text: str) -> str | None:
    """The language to answer in when nothing about the person can be read."""
    turn = decide_turn(text=text, known_language=None, choices=None)
    return turn.language or assess(text).language
