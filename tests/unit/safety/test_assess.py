"""Unit tests of the crisis detector's public function, `bot.safety.assess`."""

from __future__ import annotations

import re
import time

import pytest

from bot.safety import NOT_CRISIS, CrisisAssessment, assess, warm_up
from bot.safety.rules import CATEGORIES, LANGUAGES

RULE_ID = re.compile(r"^[a-z]{2}\.(suicide|self_harm|danger)\.[a-z0-9_]+$")


@pytest.fixture(scope="module", autouse=True)
def _rules_loaded() -> None:
    warm_up()


@pytest.mark.parametrize(
    ("text", "category", "rule", "language"),
    [
        ("I want to kill myself", "suicide", "en.suicide.kill_myself", "en"),
        ("ab jeene ka mann nahi karta", "suicide", "hi.suicide.jeene_ka_mann_nahi", "hi"),
        ("अब जीने का मन नहीं करता", "suicide", "hi.suicide.jeene_ka_mann_nahi", "hi"),
        ("মরে যেতে ইচ্ছে করছে", "suicide", "bn.suicide.more_jete_icche", "bn"),
        ("i keep cutting myself", "self_harm", "en.self_harm.cutting", "en"),
        ("they locked us in the room", "danger", "en.danger.confined", "en"),
        ("the agent took my passport and won't let me go", "danger", "en.danger.confined", "en"),
        ("he beats me", "danger", "en.danger.beaten", "en"),
        ("நான் தற்கொலை பண்ணப் போறேன்", "suicide", "ta.suicide.explicit_word", "ta"),
        # Missed until 2026-11-25, found by the developers of the voice-note and safety work.
        ("मैं अपनी जान देना चाहता हूँ", "suicide", "hi.suicide.jaan_de_dunga", "hi"),
        ("main apni jaan dena chahti hun", "suicide", "hi.suicide.jaan_de_dunga", "hi"),
        ("ମୁଁ କାଲି ସକାଳ ଆଉ ଦେଖିବାକୁ ଚାହୁଁନି", "suicide", "or.suicide.banchibaku_ichha_nahi", "or"),
        ("en phone pudungitanga", "danger", "ta.danger.passport_eduthutan", "ta"),
    ],
)
def test_flags_crisis_with_category_rule_and_language(
    text: str, category: str, rule: str, language: str
) -> None:
    result = assess(text)
    assert result == CrisisAssessment(
        is_crisis=True, category=category, risk=result.risk, rule=rule, language=language
    )
    assert result.risk in ("high", "imminent")


@pytest.mark.parametrize(
    "text",
    [
        "my father died, I need his death certificate",
        "these mosquitoes are killing me",
        "dying to go home for Diwali",
        "kill the bill",
        "the phone is dead",
        "I was locked out",
        "police verification for passport",
        "my passport expired",
        "मेरा पासपोर्ट एक्सपायर हो गया है",
        "ராத்திரி தூக்கம் வரலை",
        "ഇന്ന് മനസ്സിന് വിഷമം",
        "hello",
        "ration card kaise banega",
    ],
)
def test_leaves_ordinary_messages_alone(text: str) -> None:
    assert assess(text) == NOT_CRISIS


def test_plan_or_means_is_imminent_and_ideation_alone_is_high() -> None:
    assert assess("I don't want to live anymore").risk == "high"
    assert assess("I'm going to kill myself tonight").risk == "imminent"
    assert assess("i have the poison, i will drink it").risk == "imminent"
    assert assess("maine neend ki saari goliyan kha li").risk == "imminent"
    assert assess("आज रात फांसी लगा लूंगा").risk == "imminent"


def test_danger_in_progress_is_imminent() -> None:
    assert assess("help me save me he is coming with a knife").risk == "imminent"
    assert assess("mujhe bech diya").risk == "imminent"


def test_most_urgent_rule_decides_when_several_fire() -> None:
    # Danger (imminent) and suicidal ideation (high) in one message: the imminent one
    # decides; at equal risk suicide outranks danger.
    both = assess("he beats me every day and I want to die")
    assert both.category == "suicide"
    locked = assess("they locked us in, I want to die")
    assert locked.risk == "imminent"


def test_result_is_deterministic_and_rule_ids_are_well_formed() -> None:
    messages = ["I want to die", "mujhe bachao", "আমাকে বিক্রি করে দিয়েছে", "ok"]
    first = [assess(m) for m in messages]
    assert first == [assess(m) for m in messages]
    for result in first:
        if result.is_crisis:
            assert result.rule is not None and RULE_ID.match(result.rule)
            assert result.category in CATEGORIES
            assert result.language in LANGUAGES
        else:
            assert result == NOT_CRISIS


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "😀😀🙏",
        "مرحبا كيف حالك",
        "你好",
        "\x00\x01\x02\x1b[31m",
        "\ud800 lone surrogate",
        "/",
        "/greet",
        "a" * 65536,
        "मैं ठीक हूँ " * 6000,
        None,
        b"i want to die",
        12345,
    ],
)
def test_never_raises_on_garbage(value: object) -> None:
    result = assess(value)  # type: ignore[arg-type]
    assert isinstance(result, CrisisAssessment)


def test_bytes_and_leading_slash_are_still_read() -> None:
    assert assess(b"i want to die").is_crisis  # type: ignore[arg-type]
    assert assess("/i want to die").is_crisis


def test_crisis_words_among_emoji_and_control_characters() -> None:
    assert assess("😭😭 i want to die 😭").is_crisis
    assert assess("i\u200bwant to\u00a0die").is_crisis or assess("i want\tto\ndie").is_crisis


def test_fast_after_load() -> None:
    messages = [
        "mujhe ration card chahiye",
        "salary nahi mila 2 mahine se",
        "আমার পাসপোর্টের মেয়াদ শেষ",
        "I want to die",
        "ਮੈਨੂੰ ਵੇਚ ਦਿੱਤਾ",
        "ഇനി ജീവിക്കണ്ട",
    ] * 50
    for m in messages:
        assess(m)
    start = time.perf_counter()
    for m in messages:
        assess(m)
    per_message = (time.perf_counter() - start) / len(messages)
    # The target is well under 1 ms; the bound leaves room for a loaded CI machine.
    assert per_message < 0.005
