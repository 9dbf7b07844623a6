"""TwiML for the call, built by pure functions from what the caller should hear.

Nothing here reads the database or the request: the router decides, these functions only
write the XML (with twilio's `VoiceResponse`), so tests can parse and check it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, VoiceResponse


@dataclass(frozen=True)
class Spoken:
    """One piece of audio: text for a Twilio voice, or a recorded prompt's address.

    `text` is kept for a prompt too, so that the voice simulator can show it.
    """

    text: str
    say_voice: str | None = None
    say_locale: str | None = None
    audio_url: str | None = None


@dataclass(frozen=True)
class GatherSpec:
    """How to listen for the caller's answer.

    Attributes:
        action: where Twilio posts the keys or speech (and, by a `<Redirect>`, silence).
        speech_locale: `language` for speech input; None listens to the keypad only.
        num_digits: keys to wait for; None waits for `timeout` seconds of quiet or `#`.
        timeout: seconds of silence before giving up.
    """

    action: str
    speech_locale: str | None = None
    num_digits: int | None = 1
    timeout: int = 6


def _speak(parent: VoiceResponse | Gather, spoken: Sequence[Spoken]) -> None:
    for piece in spoken:
        if piece.audio_url:
            parent.play(piece.audio_url)
        else:
            parent.say(piece.text, voice=piece.say_voice, language=piece.say_locale)


def gather_twiml(spoken: Sequence[Spoken], gather: GatherSpec) -> str:
    """Speak while listening; with no answer, post to the same action without one."""
    response = VoiceResponse()
    attributes: dict[str, object] = {
        "action": gather.action,
        "method": "POST",
        "timeout": gather.timeout,
        "action_on_empty_result": False,
    }
    if gather.num_digits is not None:
        attributes["num_digits"] = gather.num_digits
    else:
        attributes["finish_on_key"] = "#"
    if gather.speech_locale:
        attributes.update(input="dtmf speech", language=gather.speech_locale, speech_timeout="auto")
    else:
        attributes["input"] = "dtmf"
    listening = response.gather(**attributes)
    _speak(listening, spoken)
    # Silence: Twilio moves on to the next verb; the action then sees no Digits.
    response.redirect(gather.action, method="POST")
    return str(response)


def hangup_twiml(spoken: Sequence[Spoken]) -> str:
    """Speak, then end the call."""
    response = VoiceResponse()
    _speak(response, spoken)
    response.hangup()
    return str(response)


def dial_twiml(spoken: Sequence[Spoken], *, number: str, action: str, timeout: int) -> str:
    """Speak, then connect the caller to `number`; `action` hears how the dial ended.

    Nothing is recorded: `<Dial>` records only when asked to, and we never ask.
    """
    response = VoiceResponse()
    _speak(response, spoken)
    dial = response.dial(action=action, method="POST", timeout=timeout)
    dial.number(number)
    return str(response)


def enqueue_twiml(spoken: Sequence[Spoken], *, queue: str, wait_url: str, action: str) -> str:
    """Speak, then put the caller in the language's queue for a counsellor."""
    response = VoiceResponse()
    _speak(response, spoken)
    response.enqueue(queue, wait_url=wait_url, wait_url_method="POST", action=action, method="POST")
    return str(response)


def wait_twiml(spoken: Sequence[Spoken], *, pause_seconds: int) -> str:
    """What a caller hears while waiting in the queue (Twilio asks again when it ends)."""
    response = VoiceResponse()
    _speak(response, spoken)
    response.pause(length=pause_seconds)
    return str(response)


def leave_queue_twiml() -> str:
    """Take the caller out of the queue (the enqueue's action decides what follows)."""
    response = VoiceResponse()
    response.leave()
    return str(response)
