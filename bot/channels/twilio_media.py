"""Fetching a message's media from Twilio with the account's credentials."""

from __future__ import annotations

import logging

import httpx

from bot.core.config import Settings

log = logging.getLogger(__name__)


class MediaUnavailable(Exception):
    """The media could not be had; `retry` tells whether trying again later may help."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


def can_fetch(*, settings: Settings, url: str) -> bool:
    """Whether a `MediaUrl` can be fetched at all (credentials set, an http(s) address)."""
    return bool(
        settings.twilio_account_sid
        and settings.twilio_auth_token
        and url.startswith(("https://", "http://"))
    )


def fetch_media(*, settings: Settings, url: str) -> bytes:
    """The bytes at a `MediaUrl`.

    Twilio answers with a redirect to short-lived storage; httpx drops the credentials
    when following it to another host, as it should.

    Raises:
        MediaUnavailable: without credentials or for a media larger than
            SAHAY_MEDIA_MAX_BYTES (not worth another try); when Twilio or the network
            fails or is slower than SAHAY_MEDIA_FETCH_TIMEOUT_SECONDS (worth one: a media
            URL can answer 404 for a moment after the message arrives).
    """
    if not can_fetch(settings=settings, url=url):
        raise MediaUnavailable("no credentials, or not a web address", retry=False)
    limit = settings.media_max_bytes
    try:
        with (
            httpx.Client(
                timeout=settings.media_fetch_timeout_seconds, follow_redirects=True
            ) as client,
            client.stream(
                "GET", url, auth=(settings.twilio_account_sid, settings.twilio_auth_token)
            ) as response,
        ):
            response.raise_for_status()
            data = bytearray()
            for chunk in response.iter_bytes():
                data.extend(chunk)
                if len(data) > limit:
                    log.warning("media over %d bytes not kept", limit)
                    raise MediaUnavailable(f"over {limit} bytes", retry=False)
            return bytes(data)
    except httpx.HTTPError as error:
        log.warning("could not fetch media: %s", error)
        raise MediaUnavailable(type(error).__name__, retry=True) from error
