"""The safe-migration check through signed WhatsApp webhooks, in romanised Hindi."""

from __future__ import annotations

import pytest

from tests.conftest import Helpline
from tests.integration.test_languages import ask

pytestmark = pytest.mark.integration


def test_a_risky_job_offer_shows_the_warning_signs_and_offers_a_person(
    helpline: Helpline,
) -> None:
    sender = "+919888800001"
    first = " ".join(
        ask(
            helpline,
            "agent bol raha dubai me naukri hai, 50 hazar mang raha, safe hai kya?",
            sender,
        )
    )
    assert first, "no reply"
    # abroad yes; contract no; big fee yes; keeps papers yes; advance no; can leave no;
    # work visa no; family has details no
    replies: list[str] = []
    for reply in ["haan", "nahi", "haan", "haan", "nahi", "nahi", "nahi", "nahi"]:
        replies = ask(helpline, reply, sender)
    final = "\n".join(replies)
    assert "15100" in final and "112" in final, final
    assert any("\u0900" <= ch <= "\u097f" for ch in final), final
    # the offer of a person is a numbered choice: "1" asks for a counsellor
    handed = " ".join(ask(helpline, "1", sender))
    assert handed, "no reply to the offer"
