"""The buttons an action attaches to a question: a choice set of domain/menus.yml.

The payloads and their labels are the ones the gateway knows (bot/routing/taps.py), so a
tap, the typed number and the words all come back as the same answer. On a phone call
nothing is attached: the caller hears the question and answers by voice or keypad.
"""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.session import VOICE_CHANNEL
from bot.routing.taps import MissingLabel, get_taps


def on_a_call(tracker: Tracker) -> bool:
    """Whether the person is on the phone helpline (no screen to tap on)."""
    return bool(tracker.get_slot("voice_call")) or tracker.get_slot("channel") == VOICE_CHANNEL


def choice_buttons(tracker: Tracker, choice_set: str, language: str) -> list[dict[str, str]]:
    """The choice set's options as Rasa buttons labelled in `language`; none on a call."""
    if on_a_call(tracker):
        return []
    taps = get_taps()
    menu = taps.menus[choice_set]
    try:
        titles = [option.title for option in taps.options(menu, language)]
    except MissingLabel:
        # tests/gateway/test_taps.py keeps every label written; the gateway needs only
        # the payloads, so a missing label must not cost the person the question.
        titles = list(menu.payloads)
    return [{"title": t, "payload": p} for t, p in zip(titles, menu.payloads, strict=True)]
