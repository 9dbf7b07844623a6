"""Fetching a message's media from Twilio with the account's credentials."""

from __future__ import annotations

import logging

import httpx

from bot.core.config import Settings

log = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 10.0


def fetch_media(*, settings: Settings, url: str) -> bytes | None:
    """The bytes at a `MediaUrl`, or None when they cannot be had (never raises).

    Twilio answers with a redirect to short-lived storage; httpx drops the credentials
    when following it to another host, as it should. Media larger than
    SAHAY_MEDIA_MAX_BYTES is not kept.
    """
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        return None
    if not url.startswith(("https://", "http://")):
        return None
    limit = settings.media_max_bytes
    try:
        with (
            httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True) as client,
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
                    return None
            return bytes(data)
    except httpx.HTTPError as error:
        log.warning("could not fetch media: %s", error)
        return None
