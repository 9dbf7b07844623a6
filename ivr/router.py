"""Twilio Voice webhooks under `/twilio/voice`, every one behind the signature check.

Twilio posts the call's events here: the call arrives, keys or speech come in, a dial or
a queue ends, the call ends. The call's state lives in the database (`ivr_calls`, keyed
by CallSid), so any gateway replica, or one restarted mid-call, carries on.
Recorded prompts are served under `/ivr/prompts`: public audio, fetched by Twilio's
`<Play>` and by the voice simulator's audio player, with nothing personal in it.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.responses import FileResponse

from bot.channels.twilio_auth import VoiceFormDep, signed_voice_form
from bot.core.deps import CatalogueDep, RasaDep, SettingsDep
from bot.language import LANGUAGES
from bot.storage.db import session_scope
from ivr.config import IvrSettings, get_ivr_settings
from ivr.flow import (
    CallContext,
    Step,
    fallback_dial,
    left_queue,
    menu_prompt,
    on_input,
    put_through_step,
)
from ivr.prompts import prompt_file, voiced
from ivr.service import ENDED_STATUSES, end_call, find_call, start_call, waiting_position
from ivr.speech import say
from ivr.twiml import (
    GatherSpec,
    dial_twiml,
    enqueue_twiml,
    gather_twiml,
    hangup_twiml,
    leave_queue_twiml,
    wait_twiml,
)
from ivr.voices import voice_for

IvrSettingsDep = Annotated[IvrSettings, Depends(get_ivr_settings)]

PREFIX = "/twilio/voice"
INPUT_URL = f"{PREFIX}/input"
DIAL_DONE_URL = f"{PREFIX}/dial-done"
QUEUE_WAIT_URL = f"{PREFIX}/queue-wait"
QUEUE_DONE_URL = f"{PREFIX}/queue-done"
#: After this long in the queue, the caller is put through to Tele-MANAS instead.
MAX_QUEUE_SECONDS = 300
QUEUE_PAUSE_SECONDS = 20
BRIDGED = {"completed", "answered"}
QUEUE_OVER = {"bridged", "hangup"}
#: A claim in the console redirected the call out of the queue (ivr.transfer).
QUEUE_REDIRECTED = "redirected"

router = APIRouter(prefix=PREFIX, tags=["voice"], dependencies=[Depends(signed_voice_form)])
prompts_router = APIRouter(prefix="/ivr/prompts", tags=["voice"])

_PROMPT_KEY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


def twiml(content: str) -> Response:
    """A TwiML answer."""
    return Response(content=content, media_type="application/xml")


def render(step: Step, *, ctx: CallContext) -> str:
    """The TwiML of one step, in the caller's voice and with the call's addresses."""
    spoken = voiced(step.utterances, prompts_dir=ctx.ivr.prompts_dir)
    if step.kind == "hangup":
        return hangup_twiml(spoken)
    if step.kind == "dial":
        assert step.number is not None
        return dial_twiml(
            spoken, number=step.number, action=DIAL_DONE_URL, timeout=ctx.ivr.dial_timeout_seconds
        )
    if step.kind == "enqueue":
        assert step.queue is not None
        return enqueue_twiml(
            spoken, queue=step.queue, wait_url=QUEUE_WAIT_URL, action=QUEUE_DONE_URL
        )
    voice = voice_for(ctx.call.language)
    listen = step.listen and ctx.call.language is not None and voice.listens
    return gather_twiml(
        spoken,
        GatherSpec(
            action=INPUT_URL,
            speech_locale=voice.speech_locale if listen else None,
            num_digits=step.num_digits,
            timeout=step.timeout,
        ),
    )


def _required(form: dict[str, str], *names: str) -> None:
    missing = [name for name in names if not form.get(name)]
    if missing:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"missing field(s): {', '.join(missing)}")


def _turn(
    form: dict[str, str],
    settings: SettingsDep,
    ivr: IvrSettings,
    rasa: RasaDep,
    catalogue: CatalogueDep,
    decide: str,
) -> Response:
    _required(form, "CallSid", "From")
    with session_scope(settings.database_url) as session:
        call = start_call(
            session=session, settings=settings, call_sid=form["CallSid"], caller=form["From"]
        )
        ctx = CallContext(
            session=session,
            settings=settings,
            ivr=ivr,
            call=call,
            caller=form["From"],
            rasa=rasa,
            catalogue=catalogue,
        )
        if decide == "start":
            step = menu_prompt(ctx)
        elif decide == "input":
            step = on_input(ctx, digits=form.get("Digits", ""), speech=form.get("SpeechResult", ""))
        elif decide == "put_through":
            step = put_through_step(ctx)
        elif decide == "left_queue":
            left_queue(ctx)
            step = Step([], kind="hangup")
        else:
            step = fallback_dial(ctx)
        return twiml(render(step, ctx=ctx))


@router.post("", summary="A call arrives (Twilio's voice webhook)")
def incoming_call(
    form: VoiceFormDep,
    settings: SettingsDep,
    ivr: IvrSettingsDep,
    rasa: RasaDep,
    catalogue: CatalogueDep,
) -> Response:
    """The language menu; a call Twilio asks about again resumes where it was."""
    return _turn(form, settings, ivr, rasa, catalogue, "start")


@router.post("/input", summary="Keys or speech for the current menu")
def call_input(
    form: VoiceFormDep,
    settings: SettingsDep,
    ivr: IvrSettingsDep,
    rasa: RasaDep,
    catalogue: CatalogueDep,
) -> Response:
    """Answer what the caller pressed or said (nothing at all counts as a wrong key)."""
    return _turn(form, settings, ivr, rasa, catalogue, "input")


@router.post("/dial-done", summary="How a <Dial> to a counsellor ended")
def dial_done(
    form: VoiceFormDep,
    settings: SettingsDep,
    ivr: IvrSettingsDep,
    rasa: RasaDep,
    catalogue: CatalogueDep,
) -> Response:
    """Talked: end. Nobody answered: Tele-MANAS, once."""
    if form.get("DialCallStatus") in BRIDGED:
        return twiml(hangup_twiml([]))
    return _turn(form, settings, ivr, rasa, catalogue, "fallback")


@router.post("/queue-wait", summary="What a caller hears while waiting for a counsellor")
def queue_wait(form: VoiceFormDep, settings: SettingsDep, ivr: IvrSettingsDep) -> Response:
    """Where the caller is in the line, and the wait message, in their language; after too
    long, leave for Tele-MANAS."""
    _required(form, "CallSid")
    waited = _number(form.get("QueueTime"))
    if waited is not None and waited >= MAX_QUEUE_SECONDS:
        return twiml(leave_queue_twiml())
    with session_scope(settings.database_url) as session:
        call = find_call(session=session, call_sid=form["CallSid"])
        language = (call.language if call else None) or "en"
        # The console's order (urgent first) is the one counsellors take calls in; Twilio's
        # own position in its first-in-first-out queue is the fallback.
        position = waiting_position(session=session, call=call) if call else None
    position = position or _number(form.get("QueuePosition"))
    keys = [f"queue_position.{position}"] if position and position > 0 else []
    spoken = voiced(say(language, *keys, "line.queue_wait"), prompts_dir=ivr.prompts_dir)
    return twiml(wait_twiml(spoken, pause_seconds=QUEUE_PAUSE_SECONDS))


def _number(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@router.post("/queue-done", summary="How a wait in the counsellor queue ended")
def queue_done(
    form: VoiceFormDep,
    settings: SettingsDep,
    ivr: IvrSettingsDep,
    rasa: RasaDep,
    catalogue: CatalogueDep,
) -> Response:
    """Bridged or hung up: end. Redirected by a claim: the counsellor's dial. Queue full,
    error or left after waiting: Tele-MANAS."""
    result = form.get("QueueResult")
    if result == QUEUE_REDIRECTED:
        return _turn(form, settings, ivr, rasa, catalogue, "put_through")
    if result in QUEUE_OVER:
        return _turn(form, settings, ivr, rasa, catalogue, "left_queue")
    return _turn(form, settings, ivr, rasa, catalogue, "fallback")


@router.post("/status", summary="Twilio's call status callback")
def call_status(form: VoiceFormDep, settings: SettingsDep) -> Response:
    """Mark an ended call; screening answers kept with consent stay, others are erased."""
    _required(form, "CallSid", "CallStatus")
    if form["CallStatus"] in ENDED_STATUSES:
        with session_scope(settings.database_url) as session:
            call = find_call(session=session, call_sid=form["CallSid"])
            if call is not None:
                end_call(call=call, settings=settings, status=form["CallStatus"])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@prompts_router.get("/{language}/{key}.wav", summary="A recorded prompt")
def prompt_audio(language: str, key: str, ivr: IvrSettingsDep) -> FileResponse:
    """The recording of one keyed text, for a language Twilio has no voice for."""
    if language not in LANGUAGES or not _PROMPT_KEY.match(key):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such prompt")
    path = prompt_file(ivr.prompts_dir, language, key)
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such prompt")
    return FileResponse(path, media_type="audio/wav")
