"""Checks every Twilio webhook must pass: size, form encoding and Twilio's signature."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request, status
from twilio.request_validator import RequestValidator

from bot.core.config import Settings
from bot.core.deps import SettingsDep


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "body over size limit")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "body over size limit")
    return bytes(body)


def public_url(request: Request, settings: Settings) -> str:
    """The address Twilio signed: PUBLIC_URL + path when behind a proxy, else as received."""
    if settings.public_url:
        query = f"?{request.url.query}" if request.url.query else ""
        return settings.public_url.rstrip("/") + request.url.path + query
    return str(request.url)


async def signed_twilio_form(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The webhook's form fields, once its X-Twilio-Signature has been checked.

    Raises:
        HTTPException: 503 without an auth token, 413 too large, 415 not a form, 400
            malformed, 403 when the signature is missing or wrong.
    """
    return await _signed_form(request, settings, [settings.twilio_auth_token])


async def signed_voice_form(request: Request, settings: SettingsDep) -> dict[str, str]:
    """Like `signed_twilio_form`, also accepting the local voice simulator's signature
    outside production, so that calls can be tried on the embedded defaults."""
    return await _signed_form(
        request, settings, [settings.twilio_auth_token, settings.simulator_token]
    )


async def _signed_form(request: Request, settings: Settings, tokens: list[str]) -> dict[str, str]:
    tokens = [token for token in tokens if token]
    if not tokens:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "Twilio webhooks are off: TWILIO_AUTH_TOKEN is not configured",
        )
    raw = await read_limited_body(request, settings.max_body_bytes)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "expected application/x-www-form-urlencoded"
        )
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (UnicodeDecodeError, ValueError) as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "malformed form body") from error
    form = dict(pairs)
    signature = request.headers.get("x-twilio-signature", "")
    address = public_url(request, settings)
    if not signature or not any(
        RequestValidator(token).validate(address, form, signature) for token in tokens
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid Twilio signature")
    return form


TwilioFormDep = Annotated[dict[str, str], Depends(signed_twilio_form)]
VoiceFormDep = Annotated[dict[str, str], Depends(signed_voice_form)]
