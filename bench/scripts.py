"""The conversations simulated people hold: several languages, native script and Latin.

Each script is what a person might really type, turn by turn: a greeting, a language
choice, an entitlement question, then either a short screening that ends in a crisis
message or a second question and a request for a human; and one person writes about
their crisis straight after the greeting. Both endings put the conversation in the
counsellors' queue, so they come last.

Which part of the gateway answers each turn (`path`) is worked out with the gateway's own
pure functions, so the report can compare like with like: turns the gateway passes to
Rasa against the same turns sent to Rasa directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from bot.language import LANGUAGES
from bot.routing.choices import decide_turn, language_payload
from bot.safety import assess

KINDS = ("greeting", "language", "entitlement", "screening", "crisis", "human")
PATHS = ("rasa", "menu", "crisis")  # who answers on the gateway


@dataclass(frozen=True)
class ScriptTurn:
    """One message of a script.

    Attributes:
        kind: what the person is doing (one of KINDS).
        text: what the person types.
        rasa_text: what Rasa's REST channel gets, on the gateway and in the baseline (the
            payload a menu number picks, else the text).
        path: who answers on the gateway: "rasa", "menu" (the language menu, without
            Rasa) or "crisis" (the crisis reply, without Rasa).
    """

    kind: str
    text: str
    rasa_text: str
    path: str


@dataclass(frozen=True)
class Script:
    """A whole conversation in one language and writing system."""

    name: str
    language: str
    writing: str  # "native" or "latin"
    turns: tuple[ScriptTurn, ...]


@dataclass(frozen=True)
class Person:
    """One simulated person: a distinct phone number and the script they follow."""

    number: int
    script: Script

    @property
    def phone(self) -> str:
        """An Indian mobile number (ASCII digits), distinct for every person of a run."""
        return f"+919{self.number:09d}"

    @property
    def sender(self) -> str:
        """The sender id used when the same person talks to Rasa directly."""
        return f"bench-{self.number}"


# (kind, text) per script; the paths and Rasa's texts are derived in `build_script`.
_SCRIPTS: dict[tuple[str, str, str], list[tuple[str, str]]] = {
    ("en", "latin", "screening"): [
        ("greeting", "hi"),
        ("language", "1"),
        ("entitlement", "my ration card is from bihar, can i take ration in delhi"),
        ("screening", "i want to check my mental health"),
        ("screening", "yes"),
        ("screening", "yes"),
        ("screening", "several days"),
        ("crisis", "I don't want to live anymore"),
    ],
    ("hi", "native", "human"): [
        ("greeting", "नमस्ते, मुझे मदद चाहिए"),
        ("language", "हिंदी में बोलो"),
        ("entitlement", "मेरा राशन कार्ड यहाँ काम नहीं कर रहा, राशन कैसे मिलेगा"),
        ("entitlement", "ई-श्रम कार्ड कैसे बनेगा"),
        ("human", "किसी इंसान से बात करनी है"),
    ],
    ("hi", "latin", "screening"): [
        ("greeting", "namaste ji"),
        ("language", "hindi"),
        ("entitlement", "mera ration card yahan kaam nahi kar raha, ration kaise milega"),
        ("screening", "mujhe test dena hai"),
        ("screening", "haan"),
        ("screening", "haan"),
        ("screening", "kuch din"),
        ("crisis", "ab jeena nahi hai mujhe"),
    ],
    ("bn", "native", "screening"): [
        ("greeting", "নমস্কার দাদা"),
        ("language", "বাংলায় কথা বলুন"),
        ("entitlement", "আমার রেশন কার্ড এখানে কাজ করছে না, রেশন কীভাবে পাব"),
        ("screening", "টেস্ট শুরু করুন"),
        ("screening", "হ্যাঁ"),
        ("screening", "হ্যাঁ"),
        ("screening", "কয়েক দিন"),
        ("crisis", "আর বাঁচতে চাই না"),
    ],
    ("bn", "latin", "human"): [
        ("greeting", "nomoskar"),
        ("language", "bangla"),
        ("entitlement", "amar ration card ekhane kaj korche na, ration kivabe pabo"),
        ("entitlement", "e shram card ki"),
        ("human", "manusher sathe kotha bolte chai"),
    ],
    ("ta", "native", "human"): [
        ("greeting", "வணக்கம்"),
        ("language", "தமிழ்"),
        ("entitlement", "என் ரேஷன் கார்டு இங்கே வேலை செய்யவில்லை, ரேஷன் எப்படி வாங்குவது"),
        ("entitlement", "இ ஷ்ரம் கார்டு எப்படி எடுக்கறது"),
        ("human", "ஒரு ஆள் கிட்ட பேசணும்"),
    ],
    # Some write about their crisis straight away.
    ("te", "native", "early-crisis"): [
        ("greeting", "నమస్కారం"),
        ("crisis", "చచ్చిపోవాలని ఉంది"),
    ],
    ("mr", "native", "screening"): [
        ("greeting", "नमस्कार"),
        ("language", "मराठी"),
        ("entitlement", "माझे रेशन कार्ड इथे चालत नाही, रेशन कसे मिळेल"),
        ("screening", "माझी मानसिक तपासणी करायची आहे"),
        ("screening", "हो"),
        ("screening", "हो"),
        ("screening", "काही दिवस"),
        ("crisis", "आता मला जगायचं नाही"),
    ],
}

# The crisis messages sent on their own (one per language, native and Latin letters).
CRISIS_MESSAGES: tuple[tuple[str, str], ...] = (
    ("en", "i want to die"),
    ("hi", "बस मर जाना चाहती हूँ"),
    ("hi", "mai suicide kar lunga yaar"),
    ("bn", "আজ রাতে আত্মহত্যা করব"),
    ("bn", "ar bachte chai na"),
    ("ta", "இனி வாழ விருப்பமில்லை"),
    ("mr", "आता मला जगायचं नाही"),
    ("te", "ఇక బ్రతకాలని లేదు"),
)


def build_script(language: str, writing: str, ending: str, lines: list[tuple[str, str]]) -> Script:
    """A script with each turn's path and Rasa text, as the gateway would decide them."""
    turns: list[ScriptTurn] = []
    known: str | None = None
    choices: list[str] | None = None
    for index, (kind, text) in enumerate(lines):
        if kind not in KINDS:
            raise ValueError(f"unknown turn kind {kind!r}")
        decision = decide_turn(text=text, known_language=known, choices=choices)
        if assess(text).is_crisis:
            path = "crisis"
        elif decision.show_language_menu:
            path = "menu"
        else:
            path = "rasa"
        turns.append(ScriptTurn(kind=kind, text=text, rasa_text=decision.text, path=path))
        # Only the language menu's choices are known ahead; Rasa's buttons are not, so the
        # scripts answer Rasa's questions in words, never by number.
        choices = [language_payload(code) for code in LANGUAGES] if path == "menu" else None
        known = decision.language or known
        if index == 0 and path == "menu":
            known = None
    return Script(
        name=f"{language}-{writing}-{ending}",
        language=language,
        writing=writing,
        turns=tuple(turns),
    )


def all_scripts() -> tuple[Script, ...]:
    """Every script the benchmark plays, in a fixed order."""
    return tuple(
        build_script(language, writing, ending, lines)
        for (language, writing, ending), lines in _SCRIPTS.items()
    )


def people(scripts: tuple[Script, ...], *, numbers: Iterator[int]) -> Iterator[Person]:
    """An endless line of people taking the scripts in turn, numbered from `numbers`.

    Share one `numbers` (an `itertools.count()`) between every line of a run, so that no
    two people of the run have the same phone number.
    """
    for script in itertools.cycle(scripts):
        yield Person(number=next(numbers), script=script)


def paired(scripts: tuple[Script, ...], times: int = 2) -> tuple[Script, ...]:
    """Each script `times` times in a row: a line for a paired run, where the people drawn
    go to the targets in turn, so that every script is played once through each."""
    return tuple(script for script in scripts for _ in range(times))


def crisis_scripts() -> tuple[Script, ...]:
    """One-message scripts: a crisis message, in each language and script of CRISIS_MESSAGES."""
    return tuple(
        build_script(
            language, "latin" if text.isascii() else "native", "crisis", [("crisis", text)]
        )
        for language, text in CRISIS_MESSAGES
    )
