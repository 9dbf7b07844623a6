"""Each message is processed by Rasa at most once: a claim per message, kept alive while
its turn runs.

The gateway sends every message with metadata `sahay_ref` (the Twilio MessageSid, or the
call's sid and turn). When Rasa is slower than the gateway's deadline, the gateway answers
the person with a fallback and retries the message later (`bot.routing.retry`). Rasa may
still be working on it then, and Rasa's own lock cannot tell: a ticket of its lock store
expires after TICKET_LOCK_LIFETIME seconds, while one action call may take up to five
minutes. So the engine's input channel (`bot.engine.channel`) claims the message's ref
before the turn and keeps the claim alive while it runs:

- `RUNNING` with a short expiry that a heartbeat renews, so a replica that dies mid-turn
  lets the message go after `CLAIM_SECONDS`;
- `DONE` for a day once the turn ended (longer than the gateway replays a message), so a
  late retry is told that the message was processed and reads its replies from the
  tracker — unless the tracker does not hold it: Rasa's tracker store falls back to
  memory when its database is down, and that turn is lost; then the retry runs it again
  (`retake`).

The channel also holds a slot per person while a turn runs, taken with one atomic Redis
command: Rasa's own Redis lock store reads the lock, adds a ticket and writes it back, so
two replicas receiving two messages of one person at the same instant can both go ahead
and interleave their tracker writes; the slot makes the second wait.

Claims live in Redis when Rasa's lock store does (several replicas), in memory otherwise.
Imports only the standard library and `redis` (in both environments), so that the engine
can import it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

RUNNING = "running"
DONE = "done"
CLAIM_SECONDS = 30  # a claim nobody renews for this long belongs to a dead replica
HEARTBEAT_SECONDS = 10
DONE_SECONDS = 24 * 3600
KEY_PREFIX = "sahay:turn:"
SENDER_PREFIX = "sahay:sender:"


class Claims(Protocol):
    """Where claims are kept."""

    def claim(self, ref: str) -> str | None:
        """Claim `ref`: None when it is ours now, else the state of the claim held."""

    def retake(self, ref: str) -> bool:
        """Turn a done claim back into our running one (its turn was lost: Rasa's tracker
        store fell back to memory); False when someone else changed it first."""

    def renew(self, ref: str) -> None:
        """Keep our running claim alive."""

    def finish(self, ref: str) -> None:
        """The turn ended: the message was processed."""

    def release(self, ref: str) -> None:
        """The turn failed before Rasa processed the message: let a retry have it."""

    def hold_sender(self, sender: str, token: str) -> bool:
        """Take the person's turn slot (one turn per person at a time, on every replica);
        False while another turn holds it."""

    def renew_sender(self, sender: str, token: str) -> None:
        """Keep our hold on the person's slot alive."""

    def free_sender(self, sender: str, token: str) -> None:
        """Give the person's slot back (only if we still hold it)."""


@dataclass
class _Entry:
    state: str
    expires: float


class MemoryClaims:
    """Claims of one Rasa process (the embedded default)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0
        self._senders: dict[str, tuple[str, float]] = {}

    def _now(self) -> float:
        return self._clock()

    def claim(self, ref: str) -> str | None:
        with self._lock:
            now = self._now()
            self._forget_expired(now)
            held = self._entries.get(ref)
            if held is not None and held.expires > now:
                return held.state
            self._entries[ref] = _Entry(RUNNING, now + CLAIM_SECONDS)
            return None

    def retake(self, ref: str) -> bool:
        with self._lock:
            held = self._entries.get(ref)
            if held is None or held.state != DONE:
                return False
            self._entries[ref] = _Entry(RUNNING, self._now() + CLAIM_SECONDS)
            return True

    def renew(self, ref: str) -> None:
        with self._lock:
            held = self._entries.get(ref)
            if held is not None and held.state == RUNNING:
                held.expires = self._now() + CLAIM_SECONDS

    def finish(self, ref: str) -> None:
        with self._lock:
            self._entries[ref] = _Entry(DONE, self._now() + DONE_SECONDS)

    def release(self, ref: str) -> None:
        with self._lock:
            self._entries.pop(ref, None)

    def hold_sender(self, sender: str, token: str) -> bool:
        with self._lock:
            now = self._now()
            held = self._senders.get(sender)
            if held is not None and held[1] > now and held[0] != token:
                return False
            self._senders[sender] = (token, now + CLAIM_SECONDS)
            return True

    def renew_sender(self, sender: str, token: str) -> None:
        with self._lock:
            held = self._senders.get(sender)
            if held is not None and held[0] == token:
                self._senders[sender] = (token, self._now() + CLAIM_SECONDS)

    def free_sender(self, sender: str, token: str) -> None:
        with self._lock:
            held = self._senders.get(sender)
            if held is not None and held[0] == token:
                del self._senders[sender]

    def _forget_expired(self, now: float) -> None:
        # A full sweep at most once a minute: a day's refs stay cheap to keep.
        if now < self._next_sweep:
            return
        self._next_sweep = now + 60
        for ref in [ref for ref, entry in self._entries.items() if entry.expires <= now]:
            del self._entries[ref]


# Compare-and-set in one step: done -> running.
_RETAKE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""

_RENEW_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_FREE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisClaims:
    """Claims shared by every Rasa replica."""

    def __init__(self, client: object) -> None:
        self._redis = client

    def claim(self, ref: str) -> str | None:
        key = KEY_PREFIX + ref
        if self._redis.set(key, RUNNING, nx=True, ex=CLAIM_SECONDS):  # type: ignore[attr-defined]
            return None
        held = self._redis.get(key)  # type: ignore[attr-defined]
        if held is None:  # expired between the two calls: try once more
            if self._redis.set(key, RUNNING, nx=True, ex=CLAIM_SECONDS):  # type: ignore[attr-defined]
                return None
            held = self._redis.get(key)  # type: ignore[attr-defined]
        return held.decode() if isinstance(held, bytes) else str(held or RUNNING)

    def retake(self, ref: str) -> bool:
        retaken = self._redis.eval(  # type: ignore[attr-defined]
            _RETAKE, 1, KEY_PREFIX + ref, DONE, RUNNING, CLAIM_SECONDS
        )
        return bool(retaken)

    def renew(self, ref: str) -> None:
        self._redis.expire(KEY_PREFIX + ref, CLAIM_SECONDS)  # type: ignore[attr-defined]

    def finish(self, ref: str) -> None:
        self._redis.set(KEY_PREFIX + ref, DONE, ex=DONE_SECONDS)  # type: ignore[attr-defined]

    def release(self, ref: str) -> None:
        self._redis.delete(KEY_PREFIX + ref)  # type: ignore[attr-defined]

    def hold_sender(self, sender: str, token: str) -> bool:
        key = SENDER_PREFIX + sender
        held = self._redis.set(key, token, nx=True, ex=CLAIM_SECONDS)  # type: ignore[attr-defined]
        return bool(held)

    def renew_sender(self, sender: str, token: str) -> None:
        self._redis.eval(  # type: ignore[attr-defined]
            _RENEW_IF_OURS, 1, SENDER_PREFIX + sender, token, CLAIM_SECONDS
        )

    def free_sender(self, sender: str, token: str) -> None:
        self._redis.eval(_FREE_IF_OURS, 1, SENDER_PREFIX + sender, token)  # type: ignore[attr-defined]


def claims_from_environment(environ: dict[str, str] | None = None) -> Claims:
    """Redis when Rasa's lock store is Redis (the variables endpoints.yml reads), else memory."""
    environ = dict(os.environ if environ is None else environ)
    if environ.get("LOCK_STORE_TYPE", "").lower() != "redis":
        return MemoryClaims()
    import redis  # in both environments; only needed here

    client = redis.Redis(
        host=environ.get("LOCK_STORE_HOST") or "localhost",
        port=int(environ.get("LOCK_STORE_PORT") or 6379),
        db=int(environ.get("LOCK_STORE_DB") or 0),
        password=environ.get("LOCK_STORE_PASSWORD") or None,
        socket_timeout=2,
        socket_connect_timeout=2,
    )
    return RedisClaims(client)
