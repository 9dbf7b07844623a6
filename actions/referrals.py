"""Referrals from the bot's flows: offer, ask consent, refer, send the slip; read check-in replies.

The offer follows an entitlement answer ("Shall I refer you to the Labour Office in
Ernakulam?"); only a yes creates the referral, and that yes covers the slip and the
follow-up check-ins the offer announced. Texts are domain responses; the service comes
from the directory for the person's district, with fallback to state and national lines.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.screening import language_of
from actions.store import queue_handoff
from bot.core.config import get_settings
from bot.referrals.followups import PENDING_SLOT, record_checkin_answer
from bot.referrals.lifecycle import KIND_BY_INTENT, ReferralKind
from bot.referrals.service import (
    create_referral,
    latest_conversation,
    move_referral,
    service_choices,
)
from bot.referrals.slip import OFFER_RESPONSE, SLIP_RESPONSE, slip_values
from bot.storage.db import session_scope

OFFER_SLOT = "referral_offer"
CONTEXT_SLOT = "referrals_offered"
YES_NO = [{"title": "1", "payload": "/affirm"}, {"title": "2", "payload": "/deny"}]


def last_need(tracker: Tracker) -> str | None:
    """The person's latest question that a referral can answer, not offered for yet.

    Looks back through this session only, and stops at the last offer made or answered
    (the offer slot set or cleared): one question, one offer. An offer deferred until the
    person says where they are set nothing, so it is still owed.
    """
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "session_started":
            return None
        if kind == "slot" and event.get("name") == OFFER_SLOT:
            return None
        if kind != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in KIND_BY_INTENT:
            return str(intent)
    return None


def offered_service(kind: ReferralKind, district: str | None, state: str | None) -> tuple[str, str]:
    """The service a referral of this kind would go to, and the place to name in the offer."""
    with session_scope(get_settings().database_url) as session:
        choices = service_choices(session=session, kind=kind, district=district, state=state)
    if not choices:
        return "Sahay", "India"
    return choices[0].name, choices[0].place or "India"


class ActionReferralContext(Action):
    """Custom slot mapping: mark the conversation as one where referrals may be offered."""

    def name(self) -> str:
        return "action_referral_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(CONTEXT_SLOT) is True:
            return []
        return [SlotSet(CONTEXT_SLOT, True)]


class ActionOfferReferral(Action):
    """Offer a referral for the need just answered, and ask for consent."""

    def name(self) -> str:
        return "action_offer_referral"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = last_need(tracker)
        if intent is None:
            return []
        if intent == "ask_safe_migration" and not tracker.get_slot("migration_red_flags"):
            return []  # a report is offered only when the check found warning signs
        kind = KIND_BY_INTENT[intent]
        district, state = tracker.get_slot("district"), tracker.get_slot("state")
        if district is None and state is None:
            district, state = _place_on_record(tracker.sender_id)
        if district is None and state is None:
            # The answer just asked where they are; the offer follows once they say.
            return []
        service, place = offered_service(kind, district, state)
        dispatcher.utter_message(
            response=OFFER_RESPONSE, service=service, place=place, buttons=YES_NO
        )
        offer: dict[str, Any] = {"kind": kind.value, "reason": intent}
        return [SlotSet(OFFER_SLOT, offer)]


def _place_on_record(sender_key: str) -> tuple[str | None, str | None]:
    with session_scope(get_settings().database_url) as session:
        conversation = latest_conversation(session=session, sender_key=sender_key)
        if conversation is None:
            return None, None
        return conversation.district, conversation.region_state


class ActionCreateReferral(Action):
    """The person said yes: create the referral, send the slip, plan the check-ins."""

    def name(self) -> str:
        return "action_create_referral"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        offer = tracker.get_slot(OFFER_SLOT)
        if not isinstance(offer, dict) or offer.get("kind") not in set(ReferralKind):
            dispatcher.utter_message(response="utter_anything_else")
            return []
        language = language_of(tracker)
        with session_scope(get_settings().database_url) as session:
            conversation = latest_conversation(session=session, sender_key=tracker.sender_id)
            if conversation is None:
                dispatcher.utter_message(response="utter_anything_else")
                return [SlotSet(OFFER_SLOT, None)]
            conversation.district = conversation.district or tracker.get_slot("district")
            conversation.region_state = conversation.region_state or tracker.get_slot("state")
            conversation.language = conversation.language or language
            referral = create_referral(
                session=session,
                conversation=conversation,
                kind=offer["kind"],
                reason=str(offer.get("reason") or offer["kind"]),
                created_by=f"bot:{self.name()}",
                consent_followup=True,
            )
            values = slip_values(referral, language, voice=tracker.get_slot("channel") == "voice")
            move_referral(
                session=session, referral=referral, to_state="sent", actor="bot", note="slip sent"
            )
        dispatcher.utter_message(response=SLIP_RESPONSE, **values)
        return [SlotSet(OFFER_SLOT, None)]


class ActionReferralDeclined(Action):
    """A no to the offer: nothing is recorded, and the way back stays open."""

    def name(self) -> str:
        return "action_referral_declined"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_referral_declined")
        return [SlotSet(OFFER_SLOT, None)]


class ActionFollowupReply(Action):
    """Read the answer to a check-in (yes / no / talk to a person) into the referral."""

    def name(self) -> str:
        return "action_followup_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        with session_scope(get_settings().database_url) as session:
            answer = record_checkin_answer(
                session=session, sender_key=tracker.sender_id, intent=str(intent)
            )
        done: list[EventType] = [SlotSet(PENDING_SLOT, None)]
        if answer is None:
            dispatcher.utter_message(response="utter_anything_else")
            return done
        if answer.answer == "person":
            queue_handoff(
                sender_key=tracker.sender_id, priority="normal", reason="referral_followup"
            )
            dispatcher.utter_message(response="utter_handoff_requested")
            return [*done, ConversationPaused()]
        dispatcher.utter_message(
            response=answer.response,
            service=answer.service,
            code=answer.code,
            phone=answer.phone or "-",
        )
        return done
