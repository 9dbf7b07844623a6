"""Server-sent events for the console: the queue and an open case, kept current.

Each stream looks at the database once a poll interval (CONSOLE_EVENT_POLL_SECONDS) and
sends rendered fragments for htmx's SSE extension to swap in. Reading the database rather
than an in-process bus means every gateway replica sees messages that another replica,
or Twilio's webhook, stored; change notices (`bot.core.changes`, through Redis when
REDIS_URL is set) wake a stream at once instead of at its next poll. Access is re-checked
on every poll. A stream
ends after CONSOLE_EVENT_STREAM_SECONDS and the browser reconnects at once (with
Last-Event-ID, so nothing is sent twice), so that no connection holds a replica that is
being stopped for long.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Hashable
from typing import Any

import anyio
from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from bot.console.config import ConsoleSettings
from bot.console.contexts import queue_context, queue_fingerprint, state_token, status_context
from bot.console.rendering import SECURITY_HEADERS, render_block
from bot.core.changes import wait_for_change
from bot.core.config import Settings
from bot.handoff.queue import find_visible_handoff
from bot.handoff.summary import transcript
from bot.storage.db import session_scope
from bot.storage.models import Counsellor

# Waiting times on the queue page move on even when nothing else changes.
QUEUE_REFRESH_SECONDS = 30.0
RECONNECT_MILLISECONDS = 1000
MAX_MESSAGES_PER_EVENT = 100


def sse(event: str, data: str, event_id: int | None = None) -> str:
    """One server-sent event; every line of `data` becomes a `data:` line."""
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


def stream_response(events: AsyncIterator[str]) -> StreamingResponse:
    """An event-stream response that proxies must not buffer or cache."""
    headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


def _active_counsellor(session: Session, counsellor_id: int) -> Counsellor | None:
    counsellor = session.get(Counsellor, counsellor_id)
    return counsellor if counsellor is not None and counsellor.active else None


async def _polls(request: Request, console: ConsoleSettings) -> AsyncIterator[None]:
    """Ticks once a poll interval until the client leaves or the stream's time is up."""
    deadline = time.monotonic() + console.event_stream_seconds
    while time.monotonic() < deadline and not await request.is_disconnected():
        yield
        # Woken at once by a change on any replica (bot.core.changes), else one interval.
        await wait_for_change(console.event_poll_seconds)


async def queue_stream(
    *,
    request: Request,
    settings: Settings,
    console: ConsoleSettings,
    counsellor_id: int,
    context: dict[str, Any],
) -> AsyncIterator[str]:
    """The queue fragment at once, then whenever the queue changes or waiting times move."""
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
    last: Hashable = None
    sent_at = 0.0

    def poll() -> str | None:
        nonlocal last, sent_at
        with session_scope(settings.database_url) as session:
            counsellor = _active_counsellor(session, counsellor_id)
            if counsellor is None:
                return sse("signed-out", "")
            queue = queue_context(session=session, viewer=counsellor)
        fingerprint = queue_fingerprint(queue)
        if fingerprint == last and time.monotonic() - sent_at < QUEUE_REFRESH_SECONDS:
            return None
        last, sent_at = fingerprint, time.monotonic()
        return sse("queue", render_block("queue.html", "queue", {**context, **queue}))

    async for _ in _polls(request, console):
        event = await anyio.to_thread.run_sync(poll)
        if event is not None:
            yield event
            if event.startswith("event: signed-out"):
                return


async def case_stream(
    *,
    request: Request,
    settings: Settings,
    console: ConsoleSettings,
    counsellor_id: int,
    handoff_id: int,
    after: int,
    state: str,
    context: dict[str, Any],
) -> AsyncIterator[str]:
    """New messages of the case (as transcript items) and its status block when it changes."""
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
    cursor, shown_state = after, state

    def poll() -> list[str] | None:
        nonlocal cursor, shown_state
        out = []
        with session_scope(settings.database_url) as session:
            counsellor = _active_counsellor(session, counsellor_id)
            handoff = (
                find_visible_handoff(session=session, counsellor=counsellor, handoff_id=handoff_id)
                if counsellor is not None
                else None
            )
            if counsellor is None or handoff is None:
                return None  # signed out, or the case left their sight (a transfer)
            new = transcript(
                session=session,
                encryption_key=settings.encryption_key,
                conversation_id=handoff.conversation_id,
                after=cursor,
                limit=MAX_MESSAGES_PER_EVENT,
            )
            if new:
                cursor = new[-1].id
                items = render_block("case.html", "transcript_items", {**context, "messages": new})
                out.append(sse("message", items, event_id=cursor))
            if state_token(handoff) != shown_state:
                status = status_context(session=session, viewer=counsellor, handoff=handoff)
                shown_state = status["state_token"]
                out.append(sse("state", render_block("case.html", "status", {**context, **status})))
        return out

    async for _ in _polls(request, console):
        events: list[str] | None = await anyio.to_thread.run_sync(poll)
        if events is None:
            yield sse("gone", "")
            return
        for event in events:
            yield event
