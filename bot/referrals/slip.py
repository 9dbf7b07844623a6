"""The referral slip: what a person shows or quotes at the service, in their language.

The texts are domain responses (`utter_referral_slip`, `utter_referral_carry_*` in
`domain/responses/<lang>.yml`); the values come from the referral. Service names and
addresses are the directory's, as written on the office's own board.
"""

from __future__ import annotations

from bot.referrals.lifecycle import CARRY_RESPONSE, DEFAULT_CARRY_RESPONSE, ReferralKind
from bot.referrals.models import Referral
from bot.responses import ResponseCatalogue, get_catalogue

SLIP_RESPONSE = "utter_referral_slip"
OFFER_RESPONSE = "utter_referral_offer"


def carry_response(kind: ReferralKind | str) -> str:
    """The response that says what to carry to this kind of service."""
    return CARRY_RESPONSE.get(ReferralKind(kind), DEFAULT_CARRY_RESPONSE)


def place_of(referral: Referral) -> str:
    """Where the service is, as the person named it: district, else state, else India."""
    if referral.service_level == "national":
        return "India"
    return referral.district or referral.region_state or "India"


def slip_values(
    referral: Referral,
    language: str | None,
    catalogue: ResponseCatalogue | None = None,
    *,
    voice: bool = False,
) -> dict[str, str]:
    """The values the slip's placeholders take, "what to carry" in `language` (as spoken
    on a phone call, with `voice`)."""
    texts = catalogue or get_catalogue()
    return {
        "code": referral.code,
        "service": referral.service,
        "address": referral.service_address or "-",
        "phone": referral.service_phone or "-",
        "place": place_of(referral),
        "carry": texts.render(carry_response(referral.kind), language, voice=voice),
    }


def render_slip(
    referral: Referral, language: str | None, catalogue: ResponseCatalogue | None = None
) -> str:
    """The whole slip as text, for channels that do not go through Rasa (console, IVR)."""
    texts = catalogue or get_catalogue()
    return texts.render(
        SLIP_RESPONSE, language, voice=False, **slip_values(referral, language, texts)
    )
