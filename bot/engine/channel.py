"""Rasa's input channel for the gateway: the REST channel's request and answer, with each
message processed at most once.

`POST /webhooks/sahay/webhook` takes `{sender, message, metadata}` like Rasa's REST
channel and answers the bot's messages as a JSON list. A message whose metadata carries a
`sahay_ref` is claimed first (`bot.engine.turns`):

- 409 `{"status": "in_progress"}`: another request is processing it right now (the
  gateway gave up waiting and retried too early) — ask again later;
- 409 `{"status": "processed"}`: it was processed; its replies are in the tracker. (A
  turn done while the tracker store's database was down went to Rasa's in-memory
  fallback and was lost: the tracker does not hold the ref, and the message is run
  again.)

One turn per person runs at a time, on every replica (a slot per sender, taken
atomically: Rasa's Redis lock store is read-then-write, see `bot.engine.turns`); a second
message waits for the first. While the turn runs, a heartbeat keeps the claim alive; a
replica that dies mid-turn lets it go after `CLAIM_SECONDS`. A turn that fails before
Rasa stored the message releases the claim, so a retry can run it. Registered in
credentials.yml; imported by the engine only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.engine.turns import DONE, HEARTBEAT_SECONDS, Claims, claims_from_environment

log = logging.getLogger(__name__)

# How long a message waits for the person's previous turn before the gateway is told to
# retry it later (below the gateway's own deadline would only add fallbacks; a turn is
# usually a fraction of a second).
SENDER_WAIT_SECONDS = 20.0
SENDER_POLL_SECONDS = 0.05


class SahayInput(InputChannel):
    """The gateway's channel into Rasa."""

    @classmethod
    def name(cls) -> str:
        return "sahay"

    def __init__(self, claims: Claims | None = None) -> None:
        self.claims = claims if claims is not None else claims_from_environment()

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("sahay_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender = body.get("sender")
            text = body.get("message")
            given = body.get("metadata")
            metadata: dict[str, Any] = given if isinstance(given, dict) else {}
            if not isinstance(sender, str) or not sender or not isinstance(text, str):
                return response.json({"status": "bad_request"}, status=400)
            ref = metadata.get("sahay_ref")

            async def in_tracker() -> bool:
                return await _tracker_holds(request.app.ctx.agent, sender, str(ref))

            return await self._turn(
                on_new_message, sender, text, metadata, ref or None, in_tracker=in_tracker
            )

        return webhook

    async def _turn(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender: str,
        text: str,
        metadata: dict[str, Any],
        ref: str | None,
        *,
        in_tracker: Callable[[], Awaitable[bool]],
    ) -> HTTPResponse:
        if ref is not None:
            held = self._claim(ref)
            if held == DONE and not await in_tracker() and self.claims.retake(ref):
                log.warning("message %s was processed but is not in the tracker: again", ref)
                held = None
            if held is not None:
                status = "processed" if held == DONE else "in_progress"
                return response.json({"status": status}, status=409)
        token = uuid.uuid4().hex
        if not await self._hold_sender(sender, token):
            # Another of the person's turns holds the slot past our patience: the gateway
            # keeps this message and retries it, in order.
            self._settle(ref, processed=False)
            return response.json({"status": "in_progress"}, status=409)
        collector = CollectingOutputChannel()
        heartbeat = asyncio.create_task(self._keep_alive(ref, sender, token))
        try:
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            )
        except Exception:
            # Rasa's handler logs the cause; the message was not stored: a retry may run it.
            log.exception("a turn failed")
            self._settle(ref, processed=False)
            return response.json({"status": "failed"}, status=500)
        except asyncio.CancelledError:
            self._settle(ref, processed=False)
            raise
        finally:
            heartbeat.cancel()
            self._free_sender(sender, token)
        self._settle(ref, processed=True)
        return response.json(collector.messages)

    async def _hold_sender(self, sender: str, token: str) -> bool:
        deadline = time.monotonic() + SENDER_WAIT_SECONDS
        while True:
            try:
                if self.claims.hold_sender(sender, token):
                    return True
            except Exception as error:  # the store is down: Rasa's lock store is too
                log.warning("could not hold the turn slot of a sender: %s", error)
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(SENDER_POLL_SECONDS)

    def _free_sender(self, sender: str, token: str) -> None:
        try:
            self.claims.free_sender(sender, token)
        except Exception as error:
            log.warning("could not free the turn slot of a sender: %s", error)

    def _claim(self, ref: str) -> str | None:
        try:
            return self.claims.claim(ref)
        except Exception as error:  # the claim store is down: Rasa's lock store is too
            log.warning("could not claim message %s: %s", ref, error)
            return None

    def _settle(self, ref: str | None, *, processed: bool) -> None:
        if ref is None:
            return
        try:
            if processed:
                self.claims.finish(ref)
            else:
                self.claims.release(ref)
        except Exception as error:
            log.warning("could not settle the claim on %s: %s", ref, error)

    async def _keep_alive(self, ref: str | None, sender: str, token: str) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):
                self.claims.renew_sender(sender, token)
                if ref is not None:
                    self.claims.renew(ref)


async def _tracker_holds(agent: Any, sender: str, ref: str) -> bool:
    """Whether the sender's stored tracker has a user message with this `sahay_ref`."""
    tracker = await agent.tracker_store.retrieve_full_tracker(sender)
    if tracker is None:
        return False
    return any(
        getattr(event, "type_name", "") == "user"
        and (getattr(event, "metadata", None) or {}).get("sahay_ref") == ref
        for event in tracker.events
    )
