"""Talking to the Rasa server: its REST channel for turns, plain GETs for readiness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


@dataclass(frozen=True)
class BotReply:
    """One message the bot wants to send: text and, optionally, an image or file."""

    text: str
    media_url: str | None = None


class RasaClient:
    """A pooled HTTP client for one Rasa server."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self._client = httpx.Client(base_url=base_url, timeout=timeout)

    def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        """Send one user turn through the REST channel and return the bot's messages."""
        try:
            response = self._client.post(
                "/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
            )
            response.raise_for_status()
            payload = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise RasaUnavailable(str(error)) from error
        return [
            BotReply(text=item.get("text") or "", media_url=item.get("image"))
            for item in payload
            if isinstance(item, dict) and (item.get("text") or item.get("image"))
        ]

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()
