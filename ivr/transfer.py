"""Putting a waiting caller through to the counsellor who took their case.

A normal request for a counsellor puts the caller in their language's Twilio queue
(`<Enqueue>` in `sahay-<lang>`) and creates the handoff the console shows. When a
counsellor claims that case, the gateway redirects the live call with Twilio's REST API
(the official client: `calls(CallSid).update(twiml=...)`), which takes it out of the
queue: the caller hears that a counsellor is free and is dialled to the counsellor's own
phone (kept encrypted), else to the language's counsellor line
(`SAHAY_COUNSELLOR_NUMBERS`), else Tele-MANAS. A dial nobody answers ends at
`/twilio/voice/dial-done`, which tries Tele-MANAS once.

Twilio runs this TwiML without a document address, so its URLs are absolute, built from
`PUBLIC_URL` (required in production for Twilio anyway).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from twilio.base.exceptions import TwilioException

from bot.console.audit import record
from bot.console.phones import masked
from bot.core.config import Settings
from bot.outbound import twilio_client
from bot.storage.db import session_scope
from bot.storage.models import Counsellor, Handoff
from ivr.config import IvrSettings
from ivr.models import IvrCall
from ivr.prompts import voiced
from ivr.router import DIAL_DONE_URL
from ivr.service import Destination, destination, find_call, waiting_call
from ivr.speech import say
from ivr.twiml import dial_twiml

log = logging.getLogger(__name__)

#: Seconds to wait for Twilio's REST API before telling the counsellor it failed.
TWILIO_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Transfer:
    """What became of a caller waiting on the phone when their case was claimed.

    Attributes:
        connected: Twilio took the redirect; the caller is being dialled.
        to: whose phone rings: the counsellor's own, the language's line, Tele-MANAS.
        number: the last digits of that number, for the console ("…0001").
        error: why Twilio refused, when it did.
    """

    connected: bool
    to: Destination
    number: str
    error: str | None = None


def connection_twiml(*, call: IvrCall, number: str, settings: Settings, ivr: IvrSettings) -> str:
    """ "A counsellor is free now", in the caller's language, then the dial to `number`."""
    base = settings.public_url.rstrip("/")
    spoken = [
        replace(piece, audio_url=base + piece.audio_url) if piece.audio_url else piece
        for piece in voiced(
            say(call.language or "en", "line.counsellor_ready"), prompts_dir=ivr.prompts_dir
        )
    ]
    return dial_twiml(
        spoken,
        number=number,
        action=base + DIAL_DONE_URL,
        timeout=ivr.dial_timeout_seconds,
    )


def put_through(
    *, settings: Settings, ivr: IvrSettings, handoff_id: int, actor: str
) -> Transfer | None:
    """Redirect the case's waiting call to the counsellor who claimed it.

    Returns:
        None when no call of this case waits in a queue (a chat, or the caller hung up).
    """
    with session_scope(settings.database_url) as session:
        handoff = session.get(Handoff, handoff_id)
        if handoff is None or handoff.conversation.channel != "voice":
            return None
        call = waiting_call(session=session, conversation_id=handoff.conversation_id)
        if call is None:
            return None
        counsellor = (
            session.get(Counsellor, handoff.counsellor_id) if handoff.counsellor_id else None
        )
        number, to = destination(
            settings=settings, ivr=ivr, counsellor=counsellor, language=call.language
        )
        twiml = connection_twiml(call=call, number=number, settings=settings, ivr=ivr)
        # Written before Twilio is asked: its request to /queue-done may come at once.
        call.context = {**call.context, "put_through": number, "dialled": number}
        call.outcome = "counsellor"
        call_sid = call.call_sid
    try:
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            # The embedded default (the voice simulator): no Twilio to redirect the call.
            raise TwilioException("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set")
        client = twilio_client(settings)
        client.http_client.timeout = TWILIO_TIMEOUT_SECONDS
        client.calls(call_sid).update(twiml=twiml)
    except (TwilioException, OSError) as error:
        log.warning("could not put call %s through: %s", call_sid, error)
        outcome = Transfer(connected=False, to=to, number=masked(number), error=str(error))
    else:
        outcome = Transfer(connected=True, to=to, number=masked(number))
    with session_scope(settings.database_url) as session:
        found = find_call(session=session, call_sid=call_sid)
        if found is not None and not outcome.connected:
            # Still in the queue: Twilio's next question gets the usual answers.
            found.context = {k: v for k, v in found.context.items() if k != "put_through"}
        record(
            session=session,
            actor=actor,
            action="case.call_put_through" if outcome.connected else "case.call_not_put_through",
            target_id=handoff_id,
            detail=to if outcome.connected else f"{to}: {outcome.error}",
        )
    return outcome
