"""Talking to the Rasa server: its `sahay` channel for turns (`bot.engine.channel`: the
REST channel's format, each message processed at most once), plain GETs for readiness."""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)

TURN_PATH = "/webhooks/sahay/webhook"


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RasaBusy(RasaUnavailable):
    """Rasa refused the message as already claimed: a turn is running on it right now
    (`processed` False), or it was processed before (`processed` True; its replies are in
    the tracker, `RasaClient.replies_to`)."""

    def __init__(self, *, processed: bool) -> None:
        super().__init__("processed before" if processed else "being processed")
        self.processed = processed


@dataclass(frozen=True)
class BotReply:
    """One message the bot wants to send: text and, optionally, an image or file."""

    text: str
    media_url: str | None = None
    choices: tuple[str, ...] = ()  # payloads of the buttons offered with the text
    # Rasa did not answer this turn (down, or slower than the deadline): the message is
    # kept for a retry (bot.routing.retry). The text, if any, is the fallback.
    degraded: bool = False


class RasaClient:
    """A pooled HTTP client for one Rasa server."""

    def __init__(self, base_url: str, *, timeout: float, token: str = "") -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout)
        self._token = token
        # Pauses and resumes go out one at a time, in the order asked for, so that a resume
        # never overtakes a pause still on its way.
        self._events = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rasa-events")

    def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        """Send one user turn and return the bot's messages (RasaBusy: already claimed)."""
        try:
            response = self._client.post(
                TURN_PATH, json={"sender": sender, "message": text, "metadata": metadata}
            )
            if response.status_code == 409:
                raise RasaBusy(processed=_claim_state(response) == "processed")
            response.raise_for_status()
            payload = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(str(error)) from error
        return [
            BotReply(
                text=item.get("text") or "",
                media_url=item.get("image"),
                choices=tuple(
                    str(button["payload"])
                    for button in item.get("buttons") or []
                    if isinstance(button, dict) and button.get("payload")
                ),
            )
            for item in payload
            if isinstance(item, dict) and (item.get("text") or item.get("image"))
        ]

    def replies_to(self, *, sender: str, ref: str) -> list[BotReply] | None:
        """What Rasa answered to the message sent with metadata `sahay_ref` = `ref`, read
        from its tracker; None when Rasa never processed that message."""
        try:
            response = self._client.get(
                f"/conversations/{sender}/tracker",
                params={"token": self._token, "include_events": "ALL"},
            )
            response.raise_for_status()
            events = response.json().get("events") or []
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            raise RasaUnavailable(str(error)) from error
        found = False
        replies: list[BotReply] = []
        for event in events:
            if not isinstance(event, dict):
                continue
            if event.get("event") == "user":
                if found:
                    break
                found = (event.get("metadata") or {}).get("sahay_ref") == ref
            elif found and event.get("event") == "bot":
                data = event.get("data") or {}
                if event.get("text") or data.get("image"):
                    replies.append(
                        BotReply(
                            text=event.get("text") or "",
                            media_url=data.get("image"),
                            choices=tuple(
                                str(button["payload"])
                                for button in data.get("buttons") or []
                                if isinstance(button, dict) and button.get("payload")
                            ),
                        )
                    )
        return replies if found else None

    def pause(self, *, sender: str) -> None:
        """Pause the bot for this sender (a counsellor holds the conversation)."""
        self._events.submit(self._append_event, sender, {"event": "pause"}).result()

    def pause_soon(self, *, sender: str) -> None:
        """Pause the bot for this sender without waiting; a failure is only logged.

        For the crisis reply, which must not wait for Rasa: a busy Rasa answers its tracker
        API after the turns it is working on (`make bench` measured ~200 ms idle).
        """
        try:
            future = self._events.submit(self._append_event, sender, {"event": "pause"})
        except RuntimeError as error:  # closing down
            log.warning("could not pause Rasa for a crisis handoff: %s", error)
            return
        future.add_done_callback(_log_pause_failure)

    def resume(self, *, sender: str) -> None:
        """Let the bot answer this sender again."""
        self._events.submit(self._append_event, sender, {"event": "resume"}).result()

    def restart(self, *, sender: str) -> None:
        """Forget this sender's conversation in Rasa (forms, slots): a fresh start next time."""
        self._append_event(sender, {"event": "restart"})

    def _append_event(self, sender: str, event: dict[str, Any]) -> None:
        try:
            response = self._client.post(
                f"/conversations/{sender}/tracker/events",
                params={"token": self._token},
                json=event,
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise RasaUnavailable(str(error)) from error

    def close(self) -> None:
        """Send the pauses still waiting, then release the connection pool."""
        self._events.shutdown(wait=True)
        self._client.close()


def _log_pause_failure(future: Future[None]) -> None:
    error = future.exception()
    if error is not None:
        log.warning("could not pause Rasa for a crisis handoff: %s", error)


def _claim_state(response: httpx.Response) -> str:
    try:
        return str(response.json().get("status") or "")
    except (ValueError, AttributeError):
        return ""
