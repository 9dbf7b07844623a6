"""Entitlement answers from the knowledge base, and places in any script, end to end."""

from __future__ import annotations

import sqlite3

import pytest

from bot.storage.crypto import phone_key
from tests.conftest import Helpline
from tests.integration.test_languages import ask, share_in_script

pytestmark = pytest.mark.integration


def test_romanised_hindi_ration_in_surat_gets_onorc_in_hindi(helpline: Helpline) -> None:
    replies = ask(
        helpline, "bhai mera ration card bihar ka hai, surat me ration milega kya", "+919877700001"
    )
    answer = " ".join(replies)
    assert "14445" in answer, answer
    assert share_in_script(answer, "hi") > 0.5, answer


def test_murshidabad_in_bengali_script_resolves_to_the_district(helpline: Helpline) -> None:
    sender = "+919877700002"
    ask(helpline, "আমার রেশন কার্ড এখানে কাজ করছে না", sender)
    replies = ask(helpline, "আমি এখন মুর্শিদাবাদে থাকি", sender)
    assert replies and share_in_script(" ".join(replies), "bn") > 0.5, replies
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with sqlite3.connect(helpline.settings.database_url.removeprefix("sqlite:///")) as db:
        places = db.execute(
            "SELECT c.district, c.region_state FROM conversations c "
            "JOIN contacts p ON c.contact_id = p.id WHERE p.phone_key = ?",
            (key,),
        ).fetchall()
    assert places == [("Murshidabad", "West Bengal")]


def test_which_papers_after_a_ration_question_in_hindi(helpline: Helpline) -> None:
    sender = "+919877700003"
    ask(helpline, "मेरा राशन कार्ड दूसरे राज्य में चलेगा क्या", sender)
    replies = ask(helpline, "इसके लिए कौन से कागज़ चाहिए", sender)
    answer = " ".join(replies)
    assert "आधार" in answer and "14445" in answer, answer
