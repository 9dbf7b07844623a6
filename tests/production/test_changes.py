"""Change notices: a write committed in one process wakes console streams in another."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.core.changes import ChangeFeed, feed
from bot.storage.db import migrate, session_scope
from bot.storage.models import Contact, Conversation, Message
from tests.production.conftest import PrivateRedis


async def _woken_within(listener: ChangeFeed, seconds: float, act) -> tuple[bool, float]:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    waiting = asyncio.create_task(listener.wait(seconds))
    await asyncio.sleep(0.05)
    await asyncio.to_thread(act)
    woken = await waiting
    return woken, time.monotonic() - started


def test_a_notice_crosses_processes_through_redis(private_redis: PrivateRedis) -> None:
    replica_a, replica_b = ChangeFeed(), ChangeFeed()  # two gateway replicas
    replica_a.configure(private_redis.url)
    replica_b.configure(private_redis.url)
    time.sleep(0.3)  # subscriptions in place
    try:
        woken, took = asyncio.run(_woken_within(replica_b, 5.0, lambda: replica_a.announce({7})))
    finally:
        replica_a.close()
        replica_b.close()
    assert woken and took < 2.0


def test_without_redis_notices_stay_in_the_process() -> None:
    lonely = ChangeFeed()
    lonely.configure("")
    assert not lonely.shared
    woken, _ = asyncio.run(_woken_within(lonely, 2.0, lambda: lonely.announce({1})))
    assert woken
    other = ChangeFeed()
    other.configure("")
    woken, took = asyncio.run(_woken_within(other, 0.3, lambda: lonely.announce({1})))
    assert not woken and took >= 0.3


def test_committing_a_message_announces_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate(url)

    def store() -> None:
        with session_scope(url) as session:
            contact = Contact(phone_key="k" * 64, phone_encrypted=b"x")
            conversation = Conversation(contact=contact, channel="whatsapp")
            session.add(conversation)
            session.flush()
            session.add(
                Message(
                    conversation_id=conversation.id,
                    direction="in",
                    author="person",
                    body_encrypted=b"x",
                )
            )

    before = feed.notices
    woken, _ = asyncio.run(_woken_within(feed, 5.0, store))
    assert woken and feed.notices > before
