"""Rate limits per sender and per client address, shared by replicas through Redis.

Fixed one-minute windows: a counter per key and minute, in Redis (INCR + EXPIRE) when
REDIS_URL is set so that every replica counts together, in this process's memory
otherwise. When Redis cannot be reached the limit is not enforced (a helpline must not
go silent because its rate limiter did).

- Per client address (SAHAY_RATE_IP_PER_MINUTE): every route except health checks and
  Twilio's webhooks (Twilio calls from its own few addresses, for everyone), answered
  429 with Retry-After and a sentence saying so. Behind a proxy the address is taken
  from X-Forwarded-For, trusting only the hops in SAHAY_TRUSTED_PROXIES.
- Per sender (SAHAY_RATE_SENDER_PER_MINUTE): a WhatsApp number or a simulator phone.
  A WhatsApp message over the limit is still stored and read for crisis, but waits in
  the retry queue instead of going to Rasa at once (`ThrottledRasa`), so a flood cannot
  crowd Rasa out and nothing is dropped; the simulator answers 429.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from bot.core.config import Settings
from bot.rasa_client import BotReply, RasaClient
from bot.responses import ResponseCatalogue

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/twilio/")


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on, and when to come back if not."""

    allowed: bool
    retry_after: int = 0
    first_refused: bool = False  # the first hit over the limit in this window


class RateLimiter:
    """Counts hits per key in one-minute windows."""

    def __init__(self, redis_url: str = "") -> None:
        self._redis = (
            redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
            if redis_url
            else None
        )
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._window = 0

    def hit(self, key: str, *, limit: int, now: float | None = None) -> Verdict:
        """Count one hit for `key`; refused once `limit` hits were counted this minute."""
        if limit <= 0:
            return Verdict(True)
        now = time.time() if now is None else now
        window = int(now // WINDOW_SECONDS)
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now))
        count = self._count(f"sahay:rate:{key}:{window}", window)
        if count is None:
            return Verdict(True)
        if count <= limit:
            return Verdict(True)
        return Verdict(False, retry_after, first_refused=count == limit + 1)

    def _count(self, name: str, window: int) -> int | None:
        if self._redis is not None:
            try:
                pipe = self._redis.pipeline()
                pipe.incr(name)
                pipe.expire(name, WINDOW_SECONDS * 2)
                count, _ = pipe.execute()
                return int(count)
            except redis.RedisError as error:
                log.warning("rate limiter unavailable, not limiting: %s", error)
                return None
        with self._lock:
            if window != self._window:
                self._counts.clear()
                self._window = window
            self._counts[name] = self._counts.get(name, 0) + 1
            return self._counts[name]


def client_address(request: Request, trusted: tuple[str, ...]) -> str:
    """The caller's address: the right-most X-Forwarded-For hop not among our proxies."""
    peer = request.client.host if request.client else ""
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted and _is_address(hop):
            return hop
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def too_many(retry_after: int, what: str) -> JSONResponse:
    """The clear answer: 429, when to come back, and why."""
    return JSONResponse(
        {"detail": f"too many requests from this {what}; try again in {retry_after} seconds"},
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )


def ip_limit_middleware(
    settings: Settings, limiter: RateLimiter
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """An HTTP middleware refusing a client address over SAHAY_RATE_IP_PER_MINUTE."""
    trusted = tuple(h.strip() for h in settings.trusted_proxies.split(",") if h.strip())

    async def limit(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith(EXEMPT_PREFIXES):
            verdict = limiter.hit(
                f"ip:{client_address(request, trusted)}", limit=settings.rate_ip_per_minute
            )
            if not verdict.allowed:
                return too_many(verdict.retry_after, "address")
        return await call_next(request)

    return limit


class ThrottledRasa:
    """Rasa as seen by a sender over their limit: their turn waits in the retry queue.

    The first message over the limit in a minute is told so ("give me a minute: I will
    answer them one by one"), in the person's language; the rest get no reply until the
    retries answer them in order.
    """

    def __init__(
        self, rasa: RasaClient, *, catalogue: ResponseCatalogue | None = None, tell: bool = False
    ) -> None:
        self._rasa = rasa
        self._catalogue = catalogue
        self._tell = tell

    def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        """Not sent now: a degraded reply keeps the message for a retry."""
        note = ""
        if self._tell and self._catalogue is not None:
            note = self._catalogue.render("utter_slow_down", metadata.get("language"))
        return [BotReply(text=note, degraded=True)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rasa, name)


def sender_verdict(request: Request, settings: Settings, sender_key: str) -> Verdict:
    """Count one message from a sender (by the keyed hash of their number, never the number)."""
    limiter: RateLimiter = request.app.state.limiter
    return limiter.hit(f"sender:{sender_key}", limit=settings.rate_sender_per_minute)
