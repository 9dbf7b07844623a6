"""The call flow: for the menu a caller is in and what they pressed or said, what next.

Menus are tables (`ivr.menus`); each menu has a prompt and a handler. A handler returns
the next `Step`, or None for input it cannot use: the caller then hears the menu again
(first time), is offered a counsellor (second), and is told goodbye with the helpline
numbers (third). Speech goes through the same routing as WhatsApp (`handle_inbound`:
stored, crisis detector first, then Rasa); during a screening, speech is an answer, and
the crisis detector still hears it before anything else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.contact_safety.service import is_abusive
from bot.core.config import Settings
from bot.language import fold_digits
from bot.rasa_client import RasaClient
from bot.responses import ResponseCatalogue
from bot.routing.service import InboundMessage, handle_inbound
from bot.safety import assess
from bot.screening import instrument_texts, load_instrument, parse_answer
from bot.screening.session import ScreeningSession, answer, question, start
from bot.storage.models import Contact, Conversation, Counsellor
from ivr.config import IvrSettings
from ivr.menus import (
    AFTER_ANSWER,
    COUNSELLOR_KEY,
    ENTITLEMENTS,
    ENTITLEMENTS_BACK,
    HEAR_MORE,
    MAIN_MENU,
    REPEAT,
    SCREENING_COUNSELLOR_KEYS,
    language_menu,
)
from ivr.models import IvrCall
from ivr.service import (
    conversation_for,
    crisis_of,
    destination,
    load_screening,
    open_handoff_of,
    queue_for_counsellor,
    save_screening,
    store_results,
)
from ivr.speech import Utterance, free_text, say
from ivr.voices import VOICES, voice_for

#: Wrong or missing input at one question: repeat, then offer a counsellor, then goodbye.
MAX_STRIKES = 3
#: Words of Rasa's reply read in one go before "press 1 to hear more".
CHUNK_WORDS = 40
MENU_LANGUAGES_BEFORE_CHOICE = ("en", "hi")


@dataclass
class Step:
    """What the call does next: speak, then listen, hang up, dial or queue."""

    utterances: list[Utterance]
    kind: Literal["gather", "hangup", "dial", "enqueue"] = "gather"
    num_digits: int | None = 1
    timeout: int = 6
    listen: bool = True  # accept speech where the language allows it
    number: str | None = None
    queue: str | None = None


@dataclass
class CallContext:
    """Everything a handler may use for one webhook."""

    session: Session
    settings: Settings
    ivr: IvrSettings
    call: IvrCall
    caller: str
    rasa: RasaClient
    catalogue: ResponseCatalogue
    notes: list[str] = field(default_factory=list)

    @property
    def language(self) -> str:
        """The caller's language, English until they chose."""
        return self.call.language or "en"


# --- prompts of each menu -----------------------------------------------------------------


def language_prompt(ctx: CallContext) -> Step:
    """Welcome, then each language offered in its own words."""
    utterances = say(MENU_LANGUAGES_BEFORE_CHOICE[0], "line.welcome")
    utterances += say(MENU_LANGUAGES_BEFORE_CHOICE[1], "line.welcome")
    utterances += [Utterance(code, f"option.{code}") for code in language_menu().values()]
    # Up to two keys ("10"-"12"): wait a moment after the first key, or for "#".
    return Step(utterances, num_digits=None, timeout=4, listen=False)


def main_prompt(ctx: CallContext) -> Step:
    """The main menu, with "just say it" where Twilio understands the language."""
    keys = ["line.main_menu"]
    if voice_for(ctx.call.language).listens:
        keys.append("line.speak_or_press")
    keys.append("line.repeat_hint")
    return Step(say(ctx.language, *keys))


def entitlements_prompt(ctx: CallContext) -> Step:
    """Which scheme to hear about."""
    return Step(say(ctx.language, "line.entitlements_menu", "line.repeat_hint"))


def answer_prompt(ctx: CallContext) -> Step:
    """A scheme's voice text, then what next."""
    scheme = str(ctx.call.context.get("scheme"))
    return Step(say(ctx.language, f"scheme.{scheme}", "line.after_answer"))


def more_prompt(ctx: CallContext) -> Step:
    """The current part of a long spoken answer."""
    chunks: list[str] = ctx.call.context.get("chunks") or []
    index = int(ctx.call.context.get("index") or 0)
    utterances = [free_text(ctx.language, chunks[index])] if chunks else []
    return Step(utterances + say(ctx.language, "line.hear_more"))


def question_keys(screening: ScreeningSession) -> list[str]:
    """The keyed texts that ask the current screening question, and how to answer it."""
    if screening.step == "keep_consent":
        return ["line.keep_consent"]
    instrument_id = screening.current or ""
    if screening.step == "gate":
        return [f"gate.{instrument_id}", "line.how_yes_no"]
    if screening.step == "acuity":
        return [f"acuity.{instrument_id}", "line.how_yes_no"]
    instrument = load_instrument(instrument_id)
    keys = []
    own = instrument_texts(screening.language)["instruments"].get(instrument_id) or {}
    if screening.index == 0 and (own.get("timeframe") or own.get("intro")):
        keys.append(f"lead.{instrument_id}")
    keys.append(f"item.{instrument_id}.{instrument.items[screening.index]}")
    keys.append(f"line.how_{instrument.scale}")
    return keys


def screening_prompt(ctx: CallContext) -> Step:
    """Ask the current screening question again."""
    screening = load_screening(call=ctx.call, settings=ctx.settings)
    if screening is None:
        return main_prompt(ctx)
    return Step(say(ctx.language, *question_keys(screening)))


PROMPTS: dict[str, Callable[[CallContext], Step]] = {
    "language": language_prompt,
    "main": main_prompt,
    "entitlements": entitlements_prompt,
    "answer": answer_prompt,
    "more": more_prompt,
    "screening": screening_prompt,
}


def menu_prompt(ctx: CallContext) -> Step:
    """The question the caller is answering now (a call resumed after a restart, `*`)."""
    return PROMPTS.get(ctx.call.menu, main_prompt)(ctx)


def go_to(ctx: CallContext, menu: str, *before: Utterance) -> Step:
    """Move to `menu` and ask its question, after `before`."""
    ctx.call.menu = menu
    step = menu_prompt(ctx)
    step.utterances = [*before, *step.utterances]
    return step


# --- reaching people ----------------------------------------------------------------------


def connect_counsellor(ctx: CallContext, *, priority: str, reason: str) -> Step:
    """A counsellor request: the handoff for the console, then the queue or a dial.

    A number a counsellor marked abusive gets bot-only service: the helpline numbers and
    goodbye, no queue (a crisis still goes through `connect_crisis`).
    """
    contact = ctx.session.scalar(select(Contact).where(Contact.phone_key == ctx.call.caller_key))
    if contact is not None and is_abusive(contact):
        ctx.call.outcome = "bot_only"
        return goodbye(ctx)
    handoff = queue_for_counsellor(
        session=ctx.session,
        settings=ctx.settings,
        call=ctx.call,
        caller=ctx.caller,
        priority=priority,
        reason=reason,
    )
    ctx.call.menu, ctx.call.outcome = "counsellor", "counsellor"
    if handoff.state != "queued" and handoff.counsellor_id is not None:
        # A counsellor already holds this person's case: straight to them, no queue.
        holder = ctx.session.get(Counsellor, handoff.counsellor_id)
        number, _ = destination(
            settings=ctx.settings, ivr=ctx.ivr, counsellor=holder, language=ctx.call.language
        )
        ctx.call.context = {**ctx.call.context, "dialled": number}
        return Step(say(ctx.language, "line.counsellor_ready"), kind="dial", number=number)
    lines = say(ctx.language, "line.connecting_counsellor")
    if ctx.ivr.counsellor_mode == "enqueue":
        queue = f"sahay-{ctx.language}"
        # Waiting there until a counsellor claims the case (ivr.transfer puts them through).
        ctx.call.context = {**ctx.call.context, "queue": queue}
        return Step(lines, kind="enqueue", queue=queue)
    number = ctx.ivr.counsellor_number(ctx.call.language)
    ctx.call.context = {**ctx.call.context, "dialled": number}
    return Step(lines, kind="dial", number=number)


def connect_crisis(ctx: CallContext, *, reason: str, before: list[Utterance] | None = None) -> Step:
    """A crisis or the emergency key: an urgent handoff and a human on the line at once."""
    queue_for_counsellor(
        session=ctx.session,
        settings=ctx.settings,
        call=ctx.call,
        caller=ctx.caller,
        priority="urgent",
        reason=reason,
    )
    number = ctx.ivr.counsellor_number(ctx.call.language)
    ctx.call.menu, ctx.call.outcome = "counsellor", "crisis"
    ctx.call.context = {**ctx.call.context, "dialled": number}
    utterances = [*(before or []), *say(ctx.language, "line.connecting_crisis")]
    return Step(utterances, kind="dial", number=number)


def left_queue(ctx: CallContext) -> None:
    """The call is no longer waiting in a counsellor queue."""
    ctx.call.context = {k: v for k, v in ctx.call.context.items() if k != "queue"}


def put_through_step(ctx: CallContext) -> Step:
    """The dial a claim put this call through to, as TwiML for Twilio asking again."""
    left_queue(ctx)
    number = ctx.call.context.get("put_through")
    if not number:
        return Step([], kind="hangup")
    return Step(say(ctx.language, "line.counsellor_ready"), kind="dial", number=str(number))


def fallback_dial(ctx: CallContext) -> Step:
    """Our counsellor did not answer: Tele-MANAS (once), else goodbye."""
    left_queue(ctx)
    fallback = ctx.ivr.fallback_number
    if ctx.call.context.get("dialled") == fallback:
        return goodbye(ctx)
    ctx.call.context = {**ctx.call.context, "dialled": fallback}
    return Step(say(ctx.language, "line.counsellor_unreachable"), kind="dial", number=fallback)


def goodbye(ctx: CallContext, *before: Utterance) -> Step:
    """The helpline numbers, digit by digit, and the end of the call."""
    ctx.call.outcome = ctx.call.outcome or "goodbye"
    languages = [ctx.call.language] if ctx.call.language else MENU_LANGUAGES_BEFORE_CHOICE
    lines = [utterance for code in languages for utterance in say(code, "line.goodbye")]
    return Step([*before, *lines], kind="hangup")


# --- handlers: key -> next step, None when the key means nothing here --------------------


def on_language(ctx: CallContext, keys: str) -> Step | None:
    """The language menu: 1-12 as in the chat; 0 a counsellor."""
    language = language_menu().get(keys.lstrip("0") if len(keys) > 1 else keys)
    if language is not None:
        ctx.call.language = language
        conversation_for(
            session=ctx.session, settings=ctx.settings, call=ctx.call, caller=ctx.caller
        )
        return go_to(ctx, "main")
    if keys == COUNSELLOR_KEY:
        return connect_counsellor(ctx, priority="normal", reason="ivr:counsellor")
    return None


def on_main(ctx: CallContext, keys: str) -> Step | None:
    """Entitlements, screening, counsellor, emergency."""
    choice = MAIN_MENU.get(keys)
    if choice == "entitlements":
        return go_to(ctx, "entitlements")
    if choice == "screening":
        return start_screening(ctx)
    if choice == "counsellor":
        return connect_counsellor(ctx, priority="normal", reason="ivr:counsellor")
    if choice == "emergency":
        return connect_crisis(ctx, reason="ivr:emergency")
    return None


def on_entitlements(ctx: CallContext, keys: str) -> Step | None:
    """A scheme's answer, back, or a counsellor."""
    if keys in ENTITLEMENTS:
        ctx.call.context = {"scheme": ENTITLEMENTS[keys]}
        return go_to(ctx, "answer")
    if keys == ENTITLEMENTS_BACK:
        return go_to(ctx, "main")
    if keys == COUNSELLOR_KEY:
        return connect_counsellor(ctx, priority="normal", reason="ivr:counsellor")
    return None


def on_answer(ctx: CallContext, keys: str) -> Step | None:
    """After a scheme: another scheme, the main menu, a counsellor."""
    choice = AFTER_ANSWER.get(keys)
    if choice == "counsellor":
        return connect_counsellor(ctx, priority="normal", reason="ivr:counsellor")
    return go_to(ctx, choice) if choice else None


def on_more(ctx: CallContext, keys: str) -> Step | None:
    """A long answer: the next part, or the main menu."""
    choice = HEAR_MORE.get(keys)
    if keys == COUNSELLOR_KEY:
        return connect_counsellor(ctx, priority="normal", reason="ivr:counsellor")
    if choice == "main":
        return go_to(ctx, "main")
    if choice == "more":
        chunks = ctx.call.context.get("chunks") or []
        index = int(ctx.call.context.get("index") or 0) + 1
        if index >= len(chunks):
            return go_to(ctx, "main")
        ctx.call.context = {**ctx.call.context, "index": index}
        if index == len(chunks) - 1:
            return go_to(ctx, "main", free_text(ctx.language, chunks[index]))
        return more_prompt(ctx)
    return None


def start_screening(ctx: CallContext) -> Step:
    """PHQ-4 by keypad, after asking whether we may keep the answers."""
    screening = start(language=ctx.language, trauma=False)
    save_screening(call=ctx.call, settings=ctx.settings, screening=screening)
    return go_to(ctx, "screening", *say(ctx.language, "line.screening_intro"))


def on_screening(ctx: CallContext, keys: str) -> Step | None:
    """One answer: read back, kept after every answer, scored as each instrument ends."""
    screening = load_screening(call=ctx.call, settings=ctx.settings)
    if screening is None:
        return go_to(ctx, "main")
    scale = "yes_no" if question(screening).scale == "yes_no" else "0-3"
    if keys in SCREENING_COUNSELLOR_KEYS[scale]:
        positive = any(result["positive"] for result in screening.results)
        return connect_counsellor(
            ctx, priority="high" if positive else "normal", reason="ivr:screening"
        )
    return screening_answer(ctx, screening, keys)


def screening_answer(ctx: CallContext, screening: ScreeningSession, text: str) -> Step | None:
    """Record `text` (keys or words) as the answer to the current question."""
    scale = question(screening).scale
    value = parse_answer(scale, text, screening.language)
    before = len(screening.results)
    outcome = answer(screening, text)
    if outcome == "unclear":
        return None
    if outcome == "human":
        save_screening(call=ctx.call, settings=ctx.settings, screening=screening)
        return connect_counsellor(ctx, priority="normal", reason="ivr:screening")
    heard: list[Utterance] = []
    if value is not None:
        heard = say(ctx.language, "line.you_answered", f"scale.{scale}.{value}")
    finished = screening.results[before:]
    if finished and screening.keep:
        store_results(
            session=ctx.session,
            settings=ctx.settings,
            call=ctx.call,
            caller=ctx.caller,
            results=finished,
        )
    heard += say(ctx.language, *(f"band.{r['instrument']}.{r['band']}" for r in finished))
    if screening.step != "done":
        save_screening(call=ctx.call, settings=ctx.settings, screening=screening)
        step = Step(say(ctx.language, *question_keys(screening)))
        step.utterances = [*heard, *step.utterances]
        return step
    # Finished: the results are stored (if kept); the call state keeps nothing more.
    save_screening(call=ctx.call, settings=ctx.settings, screening=None)
    if screening.outcome == "crisis":
        return connect_crisis(ctx, reason="crisis:screening", before=heard)
    closing = say(
        ctx.language,
        "line.screening_done",
        "line.answers_kept" if screening.keep else "line.answers_not_kept",
    )
    if screening.outcome == "handoff_high":
        step = connect_counsellor(ctx, priority="high", reason="screening:asq_positive")
        step.utterances = [*heard, *closing, *step.utterances]
        return step
    return go_to(ctx, "main", *heard, *closing)


HANDLERS: dict[str, Callable[[CallContext, str], Step | None]] = {
    "language": on_language,
    "main": on_main,
    "entitlements": on_entitlements,
    "answer": on_answer,
    "more": on_more,
    "screening": on_screening,
}


# --- one turn -----------------------------------------------------------------------------


def on_input(ctx: CallContext, *, digits: str, speech: str) -> Step:
    """Take what the caller pressed or said at the current menu and decide what follows."""
    call = ctx.call
    call.turns += 1
    keys = fold_digits(digits or "").strip()
    if not keys and speech.strip():
        step = on_speech(ctx, speech.strip())
    elif keys == REPEAT:
        return menu_prompt(ctx)
    else:
        handler = HANDLERS.get(call.menu)
        step = handler(ctx, keys) if handler and keys else None
    if step is None:
        return strike(ctx)
    call.strikes = 0
    return step


def strike(ctx: CallContext) -> Step:
    """Wrong or no input: repeat; the second time offer a counsellor; the third, goodbye."""
    ctx.call.strikes += 1
    language = ctx.call.language or MENU_LANGUAGES_BEFORE_CHOICE[0]
    if ctx.call.strikes >= MAX_STRIKES:
        return goodbye(ctx, *say(language, "line.not_understood"))
    keys = ["line.not_understood"]
    if ctx.call.strikes == MAX_STRIKES - 1:
        in_screening = ctx.call.menu == "screening"
        keys.append("line.offer_counsellor_screening" if in_screening else "line.offer_counsellor")
    step = menu_prompt(ctx)
    step.utterances = [*say(language, *keys), *step.utterances]
    return step


def on_speech(ctx: CallContext, speech: str) -> Step | None:
    """Speech: a crisis first; then a screening answer, or a turn through Rasa."""
    if ctx.call.menu == "screening":
        crisis = assess(speech)
        if crisis.is_crisis:
            return connect_crisis(ctx, reason=f"crisis:{crisis.category}")
        screening = load_screening(call=ctx.call, settings=ctx.settings)
        if screening is not None:
            return screening_answer(ctx, screening, speech)
    conversation_for(session=ctx.session, settings=ctx.settings, call=ctx.call, caller=ctx.caller)
    # handle_inbound writes in its own transactions: ours must not hold the write lock.
    ctx.session.commit()
    message_sid = f"{ctx.call.call_sid}-{ctx.call.turns}"
    result = handle_inbound(
        settings=ctx.settings,
        rasa=ctx.rasa,
        catalogue=ctx.catalogue,
        inbound=InboundMessage(
            channel="voice", address=ctx.caller, text=speech, message_sid=message_sid
        ),
    )
    category = crisis_of(session=ctx.session, message_sid=message_sid)
    if category is not None:
        return connect_crisis(ctx, reason=f"crisis:{category}")
    # Rasa, the action server and handle_inbound wrote in sessions of their own.
    ctx.session.expire_all()
    follow_language(ctx)
    chunks = [c for reply in result.replies for c in chunk(voice_text(reply.text))]
    handoff = open_handoff_of(session=ctx.session, call=ctx.call)
    if handoff is not None:
        # A counsellor was asked for (by name, or by Rasa's own crisis intents), or the
        # conversation already waits for one: on the phone that means being put through.
        heard = [free_text(ctx.language, c) for c in chunks]
        if handoff.priority == "urgent":
            return connect_crisis(ctx, reason=handoff.reason, before=heard)
        step = connect_counsellor(ctx, priority=handoff.priority, reason=handoff.reason)
        step.utterances = [*heard, *step.utterances]
        return step
    if not chunks:
        return None
    if len(chunks) == 1:
        return go_to(ctx, "main", free_text(ctx.language, chunks[0]))
    ctx.call.context = {"chunks": chunks, "index": 0}
    ctx.call.menu = "more"
    return more_prompt(ctx)


def follow_language(ctx: CallContext) -> None:
    """Speak the language the caller just chose in words ("हिंदी में बोलिए"), from now on."""
    conversation = ctx.session.get(Conversation, ctx.call.conversation_id)
    chosen = conversation.contact.preferred_language if conversation else None
    if chosen in VOICES and chosen != ctx.call.language:
        ctx.call.language = chosen


# --- Rasa's text, made fit to be spoken -----------------------------------------------------
# Replies on a call are their voice variations already (domain/responses/voice/); action
# texts from the knowledge base are rendered for voice too. This cleaning is the last
# safety net for anything that slips through (a slot value, a text written for chat).

_URL = re.compile(r"https?://\S+|www\.\S+")
_MARKUP = re.compile(r"[*_~`#>|\[\]]")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d]")
_NUMBER = re.compile(r"\d(?:[\s-]?\d){2,}")
_SPOKEN_NUMBER = re.compile(r"\b\d(?: \d)+\b")
_SENTENCE_END = re.compile(r"(?<=[.!?।॥])\s+|\n+")


def voice_text(text: str) -> str:
    """A reply made safe to speak: no links, emoji or markup; numbers digit by digit."""
    text = _URL.sub("", text)
    text = _EMOJI.sub("", _MARKUP.sub("", text))
    text = _NUMBER.sub(lambda m: " ".join(ch for ch in m.group() if ch.isdigit()), text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r" ?\n ?", "\n", text).strip()


def spoken_words(text: str) -> int:
    """Words as a listener counts them: a number read digit by digit ("1 4 4 1 6") is one."""
    return len(_SPOKEN_NUMBER.sub("0", text).split())


def chunk(text: str, max_words: int = CHUNK_WORDS) -> list[str]:
    """Split a long answer into parts of whole sentences, each about `max_words` long."""
    parts: list[str] = []
    current: list[str] = []
    for sentence in filter(None, (s.strip() for s in _SENTENCE_END.split(text))):
        words = spoken_words(sentence)
        if current and spoken_words(" ".join(current)) + words > max_words:
            parts.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        parts.append(" ".join(current))
    return parts
