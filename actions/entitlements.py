"""Entitlement answers from the shared knowledge base, in the person's language.

The texts and phone numbers come from `knowledge/` (schemes and helplines.yml), so the
bot, the IVR and counsellors say the same thing and a number lives in one place.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.eligibility import CHECK_BY_INTENT, offer_buttons
from actions.screening import language_of
from actions.store import remember_place, safety_state
from bot.checks.eligibility import texts as eligibility_texts
from bot.core.config import get_settings
from bot.knowledge import KNOWLEDGE_DIR, load_schemes, render, resolve_place
from bot.knowledge.gazetteer import load_gazetteer
from bot.knowledge.service_store import nearest_services
from bot.storage.db import session_scope

# Which schemes answer which question, most relevant first.
SCHEMES_BY_INTENT = {
    "ask_ration": ["onorc"],
    "ask_health_insurance": ["pmjay"],
    "ask_eshram": ["eshram"],
    "ask_shelter": ["one_stop_centre", "ujjawala"],
    "ask_legal_aid": ["legal_aid"],
    "ask_compensation": ["victim_compensation", "bonded_labour_rehabilitation"],
    "ask_mental_health_support": ["tele_manas", "dmhp"],
}


# After these questions the person may be under someone's control: offer discreet mode.
DISCREET_OFFER_AFTER = {"ask_shelter"}

# The kind of local office that helps with each need, once we know where the person is.
SERVICE_BY_INTENT = {
    "ask_shelter": "one_stop_centre",
    "ask_legal_aid": "dlsa",
    "ask_compensation": "dlsa",
    "ask_wages": "labour_office",
    "ask_mental_health_support": "dmhp",
}
REPLIES = KNOWLEDGE_DIR / "services" / "replies.yml"


@lru_cache(maxsize=1)
def _service_replies() -> dict[str, dict[str, str]]:
    data: dict[str, Any] = yaml.safe_load(REPLIES.read_text(encoding="utf-8"))
    return {key: data[key] for key in ("near_you", "none_near", "also_call")}


def nearest_services_text(
    service_type: str, *, district: str | None, state: str | None, language: str
) -> str:
    """Offices of one kind near the person, and the national lines for the same need."""
    lines = _service_replies()
    with session_scope(get_settings().database_url) as session:
        found = nearest_services(
            session=session, service_type=service_type, district=district, state=state
        )
    out = []
    if found.services:
        out.append(lines["near_you"].get(language) or lines["near_you"]["en"])
        for office in found.services[:3]:
            phones = ", ".join(office.phones)
            out.append(f"• {office.name}, {office.address}" + (f" ({phones})" if phones else ""))
        out.append(lines["also_call"].get(language) or lines["also_call"]["en"])
    else:
        out.append(lines["none_near"].get(language) or lines["none_near"]["en"])
    for helpline in found.helplines:
        purpose = render(helpline.purpose, language)
        out.append(f"• {helpline.number}: {purpose}")
    return "\n".join(out)


def scheme_texts(intent: str, language: str, *, voice: bool) -> list[str]:
    """The short (or, on a call, the voice) texts answering `intent`."""
    schemes = load_schemes()
    texts = []
    for scheme_id in SCHEMES_BY_INTENT.get(intent, []):
        scheme = schemes[scheme_id]
        text = scheme.voice if voice else scheme.short
        texts.append(render(text, language, voice=voice))
    return texts


class ActionExplainScheme(Action):
    """Answer an entitlement question with the knowledge base's text."""

    def name(self) -> str:
        return "action_explain_scheme"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        voice = tracker.get_slot("channel") == "voice"
        texts = scheme_texts(intent, language_of(tracker), voice=voice)
        service = SERVICE_BY_INTENT.get(intent)
        if not texts and service is None:
            dispatcher.utter_message(response="utter_help_menu")
            return []
        for text in texts:
            dispatcher.utter_message(text=text)
        check = CHECK_BY_INTENT.get(intent)
        if check is not None and not voice:
            offer = eligibility_texts(language_of(tracker))["offer"][check]
            dispatcher.utter_message(text=str(offer), buttons=offer_buttons(check))
        if intent in DISCREET_OFFER_AFTER and not voice:
            # Before the question of where they are, which stays the last word; a "1"
            # still picks the offer, the only numbered choice in this turn.
            offer_discreet_mode(dispatcher, tracker)
        if service is None:
            return []
        district, state = tracker.get_slot("district"), tracker.get_slot("state")
        if district or state:
            dispatcher.utter_message(
                text=nearest_services_text(
                    service, district=district, state=state, language=language_of(tracker)
                )
            )
            return []
        # Ask where they are only now that it helps, and answer once they say.
        dispatcher.utter_message(response="utter_ask_location")
        return [SlotSet("service_need", service)]


def offer_discreet_mode(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Someone looking for a safe place may have a watched phone: offer discreet mode."""
    discreet, _ = safety_state(sender_key=tracker.sender_id)
    if not discreet:
        dispatcher.utter_message(response="utter_discreet_offer")


class ActionInformLocation(Action):
    """Understand a district or state named in any script and remember it."""

    def name(self) -> str:
        return "action_inform_location"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str(tracker.latest_message.get("text") or "")
        pinned = _confirmed_pin(tracker)
        place = pinned or resolve_place(text)
        if place is None:
            dispatcher.utter_message(response="utter_ask_location")
            return []
        district = getattr(place, "district", None)
        state = getattr(place, "state", None)
        remember_place(sender_key=tracker.sender_id, district=district, state=state)
        dispatcher.utter_message(response="utter_location_noted")
        events: list[dict[str, Any]] = [SlotSet("district", district), SlotSet("state", state)]
        need = tracker.get_slot("service_need")
        if need:
            dispatcher.utter_message(
                text=nearest_services_text(
                    need, district=district, state=state, language=language_of(tracker)
                )
            )
            events.append(SlotSet("service_need", None))
        elif pinned is not None and district:
            # A confirmed location pin: the offices of that district, whatever the need.
            dispatcher.utter_message(
                text=directory_text(district=district, state=state, language=language_of(tracker))
            )
        return events


def _confirmed_pin(tracker: Tracker) -> Any:
    """The district a confirmed location pin named (the tap's payload), if valid."""
    district = next(tracker.get_latest_entity_values("district"), None)
    state = next(tracker.get_latest_entity_values("state"), None)
    if not isinstance(district, str) or not isinstance(state, str):
        return None
    return load_gazetteer().district_entry(state, district)


# The kinds of office listed for a confirmed location pin, most asked-for first.
PIN_SERVICE_TYPES = ("one_stop_centre", "dlsa", "labour_office", "dmhp")


def directory_text(*, district: str | None, state: str | None, language: str) -> str:
    """The offices on record near the person, of every kind, and the national lines."""
    lines = _service_replies()
    with session_scope(get_settings().database_url) as session:
        found = [
            nearest_services(session=session, service_type=kind, district=district, state=state)
            for kind in PIN_SERVICE_TYPES
        ]
    offices = [office for lookup in found for office in lookup.services[:2]]
    out = []
    if offices:
        out.append(lines["near_you"].get(language) or lines["near_you"]["en"])
        for office in offices:
            phones = ", ".join(office.phones)
            out.append(f"• {office.name}, {office.address}" + (f" ({phones})" if phones else ""))
        out.append(lines["also_call"].get(language) or lines["also_call"]["en"])
    else:
        out.append(lines["none_near"].get(language) or lines["none_near"]["en"])
    seen: set[str] = set()
    for lookup in found:
        for helpline in lookup.helplines:
            if helpline.number not in seen:
                seen.add(helpline.number)
                out.append(f"• {helpline.number}: {render(helpline.purpose, language)}")
    return "\n".join(out)
