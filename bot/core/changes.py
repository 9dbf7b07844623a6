"""Change notices: "conversation 12 changed", so that console streams wake at once.

Every committed write to a message, conversation or handoff is announced after the commit.
Within one process the notice wakes the console's event streams directly; with REDIS_URL
set it is also published on Redis, so that a stream held by one gateway replica wakes
when another replica (or the action server) stored the message. The database stays the
only source of truth: a notice says "look again", never what changed, and streams still
look on their own once a poll interval, so a lost notice only delays an update.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from typing import Any

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.models import Conversation, Handoff, HandoffEvent, Message

log = logging.getLogger(__name__)

CHANNEL = "sahay:changes"
RECONNECT_SECONDS = 2.0
_WATCHED = (Message, Conversation, Handoff, HandoffEvent)


class ChangeFeed:
    """Wakes waiting coroutines (in any event loop) when something changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._redis: redis.Redis | None = None
        self._redis_url = ""
        self._listener: threading.Thread | None = None
        self._stop = threading.Event()
        self.configured = False
        self.notices = 0  # seen by this process, for tests and metrics

    @property
    def shared(self) -> bool:
        """Whether notices travel between processes (Redis), not only within this one."""
        return self._redis is not None

    def configure(self, redis_url: str) -> None:
        """Use Redis at `redis_url` for notices between processes ('' : this process only)."""
        self.configured = True
        if redis_url == self._redis_url:
            return
        self.close()
        self._redis_url = redis_url
        if not redis_url:
            return
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._stop.clear()
        self._listener = threading.Thread(
            target=self._listen, args=(redis_url,), name="sahay-changes", daemon=True
        )
        self._listener.start()

    def close(self) -> None:
        """Stop listening to Redis."""
        self._stop.set()
        if self._redis is not None:
            with contextlib.suppress(redis.RedisError):
                self._redis.close()
        self._redis = None
        self._redis_url = ""
        self._listener = None

    def announce(self, conversation_ids: set[int]) -> None:
        """Tell this process's waiters, and the other processes through Redis."""
        self._wake()
        if self._redis is None:
            return
        try:
            self._redis.publish(CHANNEL, json.dumps(sorted(conversation_ids)))
        except redis.RedisError as error:
            # Other replicas catch up at their next poll; the write itself is committed.
            log.warning("could not publish a change notice: %s", error)

    async def wait(self, timeout: float) -> bool:
        """Wait until a change is announced or `timeout` seconds pass; True on a change."""
        woken = asyncio.Event()
        waiter = (asyncio.get_running_loop(), woken)
        with self._lock:
            self._waiters.add(waiter)
        try:
            await asyncio.wait_for(woken.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def _wake(self) -> None:
        self.notices += 1
        with self._lock:
            waiters = list(self._waiters)
        for loop, woken in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(woken.set)

    def _listen(self, redis_url: str) -> None:
        while not self._stop.is_set():
            client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._wake()
            except redis.RedisError as error:
                log.warning("change notices from Redis interrupted: %s", error)
                self._stop.wait(RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(redis.RedisError):
                    client.close()


feed = ChangeFeed()


def _collect(session: Session, _context: Any, _instances: Any) -> None:
    touched: set[int] = session.info.setdefault("sahay_changed", set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Conversation):
            touched.add(instance.id or 0)
        elif isinstance(instance, Message | Handoff):
            touched.add(instance.conversation_id or 0)
        elif isinstance(instance, HandoffEvent):
            touched.add(0)


def _announce(session: Session) -> None:
    touched = session.info.pop("sahay_changed", None)
    if touched:
        feed.announce(touched)


def watch(factory: sessionmaker[Session]) -> None:
    """Announce the changes that sessions from `factory` commit.

    A process that did not configure the feed (the action server) takes REDIS_URL from
    its environment.
    """
    if not feed.configured:
        feed.configure(os.environ.get("REDIS_URL", ""))
    event.listen(factory, "before_flush", _collect)
    event.listen(factory, "after_commit", _announce)


async def wait_for_change(poll_seconds: float) -> None:
    """Sleep until a change is announced, at most one poll interval (longer with Redis,
    whose notices make frequent polling unnecessary), and never less than a quarter second
    so that a burst of changes is read in one go."""
    started = time.monotonic()
    timeout = max(poll_seconds, 10.0) if feed.shared else poll_seconds
    await feed.wait(timeout)
    rest = 0.25 - (time.monotonic() - started)
    if rest > 0:
        await asyncio.sleep(rest)
