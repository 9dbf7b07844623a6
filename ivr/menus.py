"""The IVR's menus as data: which key leads where, in every language alike.

The language menu uses the chat's numbering (1 English … 12 Malayalam, from
`domain/menus.yml`), so a person who knows "Bangla is 3" on WhatsApp finds it on the
phone. Options 10-12 are two key presses: that gather waits a few seconds after the
first key (or `#`), so "1" alone still means English.
"""

from __future__ import annotations

from functools import cache

from bot.responses import get_catalogue
from bot.routing.choices import chosen_language

#: Main menu: key -> what the caller asked for.
MAIN_MENU: dict[str, str] = {
    "1": "entitlements",
    "2": "screening",
    "3": "counsellor",
    "9": "emergency",
    "0": "emergency",
}

#: Entitlements: key -> scheme id in `knowledge/schemes/`, read with its voice text.
ENTITLEMENTS: dict[str, str] = {
    "1": "onorc",  # ration anywhere in India
    "2": "pmjay",  # health cover
    "3": "eshram",  # worker registration
    "4": "legal_aid",  # free legal help
    "5": "one_stop_centre",  # a safe place to stay
}
ENTITLEMENTS_BACK = "9"

#: After a scheme's answer.
AFTER_ANSWER: dict[str, str] = {"1": "entitlements", "9": "main", "0": "counsellor"}

#: After part of a long answer.
HEAR_MORE: dict[str, str] = {"1": "more", "9": "main"}

REPEAT = "*"
COUNSELLOR_KEY = "0"
#: In a screening, 0 answers "not at all" (keys 0-3 are the published answers), so the
#: counsellor is on 9 there; on a yes/no question 0 means nothing else and also works.
SCREENING_COUNSELLOR_KEYS = {"0-3": ("9",), "yes_no": ("9", "0")}

#: Instruments a phone screening can reach: PHQ-4, then PHQ-9 / GAD-7, ASQ after PHQ-9.
SCREENING_INSTRUMENTS = ("phq4", "phq9", "gad7", "asq")


@cache
def language_menu() -> dict[str, str]:
    """Key(s) -> language code, in the chat language menu's order."""
    payloads = get_catalogue().choices("utter_language_menu")
    menu = {}
    for number, payload in enumerate(payloads, start=1):
        language = chosen_language(payload)
        if language is not None:
            menu[str(number)] = language
    return menu


def language_digits(language: str) -> str:
    """The keys that choose `language`."""
    return next(digits for digits, code in language_menu().items() if code == language)


def spoken_digits(digits: str) -> str:
    """Keys as a voice should say them: "10" is "1 0", one key after the other."""
    return " ".join(digits)
