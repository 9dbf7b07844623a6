"""The voice simulator: a phone keypad in the browser that calls the real voice webhooks.

The page never sees the Twilio token: it posts each key press or spoken sentence here,
and this endpoint signs the request with the gateway's own token and posts it to the
same `/twilio/voice/...` routes Twilio calls, then shows what the caller would hear.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode
from xml.etree import ElementTree

import httpx
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from twilio.request_validator import RequestValidator

from bot.core.deps import SettingsDep
from ivr.prompts import PROMPTS_URL
from ivr.router import INPUT_URL, PREFIX, QUEUE_WAIT_URL
from ivr.speech import spoken_text

router = APIRouter(prefix="/simulator/voice", tags=["simulator"])
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))

SIMULATED_TO = "+910000000000"
_PROMPT_URL = re.compile(rf"^{re.escape(PROMPTS_URL)}/([a-z]+)/([a-z0-9_.]+)\.wav$")


class VoiceEvent(BaseModel):
    """What the page sends: the call begins, keys or words, or the caller hangs up."""

    phone: str = Field(pattern=r"^\+?[0-9]{6,15}$")
    call_sid: str = Field(pattern=r"^CA[0-9a-f]{32}$")
    event: Literal["call", "input", "hangup"]
    digits: str = Field("", pattern=r"^[0-9*#]{0,4}$")
    speech: str = Field("", max_length=500)


class Heard(BaseModel):
    """One thing the caller hears."""

    text: str
    audio_url: str | None = None
    voice: str | None = None
    language: str | None = None


class VoiceTurn(BaseModel):
    """What the caller hears, and what the call waits for next."""

    heard: list[Heard]
    listening: bool = False
    num_digits: int | None = None
    speech: bool = False
    ended: str | None = None  # "hangup", "dial +91...", "queue sahay-hi"


def new_call_sid() -> str:
    """A made-up CallSid in Twilio's shape."""
    return "CA" + secrets.token_hex(16)


def _heard(element: ElementTree.Element) -> list[Heard]:
    heard = []
    for child in element:
        if child.tag == "Say":
            heard.append(
                Heard(
                    text=child.text or "",
                    voice=child.get("voice"),
                    language=child.get("language"),
                )
            )
        elif child.tag == "Play":
            url = child.text or ""
            match = _PROMPT_URL.match(url)
            text = spoken_text(match.group(2), match.group(1)) if match else ""
            heard.append(
                Heard(text=text, audio_url=url, language=match.group(1) if match else None)
            )
    return heard


def read_twiml(xml: str) -> VoiceTurn:
    """What a TwiML answer makes the caller hear and do."""
    root = ElementTree.fromstring(xml)
    turn = VoiceTurn(heard=_heard(root))
    for element in root:
        if element.tag == "Gather":
            turn.heard += _heard(element)
            turn.listening = True
            digits = element.get("numDigits")
            turn.num_digits = int(digits) if digits else None
            turn.speech = "speech" in (element.get("input") or "")
        elif element.tag == "Hangup":
            turn.ended = "hangup"
        elif element.tag == "Dial":
            turn.ended = "dial " + "".join(n.text or "" for n in element)
        elif element.tag == "Enqueue":
            turn.ended = f"queue {element.text}"
    return turn


@router.get("", response_class=HTMLResponse, summary="Call the helpline from the browser")
def voice_simulator_page(request: Request) -> HTMLResponse:
    """The keypad page."""
    return templates.TemplateResponse(request, "voice_simulator.html", {"call_sid": new_call_sid()})


@router.post("/step", summary="Send a simulated call event, signed, to the voice webhooks")
def voice_simulator_step(event: VoiceEvent, request: Request, settings: SettingsDep) -> VoiceTurn:
    """Sign the event as Twilio would, post it to the gateway's voice routes, read the TwiML."""
    token = settings.twilio_auth_token or settings.simulator_token
    if not token:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the voice simulator is off in production"
        )
    form = {
        "CallSid": event.call_sid,
        "AccountSid": "AC" + "0" * 32,
        "From": event.phone,
        "To": SIMULATED_TO,
        "CallStatus": "in-progress",
    }
    path = {"call": PREFIX, "input": INPUT_URL, "hangup": f"{PREFIX}/status"}[event.event]
    if event.event == "input":
        form["Digits"] = event.digits
        form["SpeechResult"] = event.speech
    if event.event == "hangup":
        form["CallStatus"] = "completed"
    base = str(request.base_url).rstrip("/")
    with httpx.Client(timeout=30) as client:
        response = _post_signed(client, base, settings.public_url or base, path, form, token)
        if event.event == "hangup":
            return VoiceTurn(heard=[], ended="hangup")
        turn = read_twiml(response.text)
        if turn.ended and turn.ended.startswith("queue"):
            # What the caller hears while waiting, from the queue's wait URL.
            waiting = _post_signed(
                client,
                base,
                settings.public_url or base,
                QUEUE_WAIT_URL,
                {**form, "QueueTime": "0", "QueueSid": "QU" + "0" * 32},
                token,
            )
            turn.heard += read_twiml(waiting.text).heard
    return turn


def _post_signed(
    client: httpx.Client, base: str, signed_base: str, path: str, form: dict[str, str], token: str
) -> httpx.Response:
    signature = RequestValidator(token).compute_signature(signed_base.rstrip("/") + path, form)
    try:
        response = client.post(
            base + path,
            content=urlencode(form),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    except httpx.HTTPError as error:
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY,
            "the voice simulator could not reach this gateway at its own address",
        ) from error
    if response.status_code >= 400:
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY, f"voice webhook said {response.status_code}"
        )
    return response
