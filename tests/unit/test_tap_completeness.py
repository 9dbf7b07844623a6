"""Every choice the bot offers can be tapped and typed, in every language.

tests/gateway/test_taps.py checks the menus domain/menus.yml declares. This module looks
for the choices nobody declared: it reads every reply and knowledge text in every
language for the ways a text offers choices (numbered option lines, "reply 1 for yes or
2 for no", "*1*", "0 = not at all", "yes … no"), and asks every question the screening
and the guided checks can ask; each offer must belong to a declared menu that has both a
tap form (a label per option, within WhatsApp's limits) and a numbered form (its text
names each option's number) in that language.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.checks import ActionAskCheckAnswer
from actions.eligibility import ActionAskEligibilityAnswer
from actions.screening import ActionAskScreeningAnswer
from bot.checks.eligibility import EligibilitySession, definitions
from bot.checks.safe_migration import CheckSession
from bot.checks.safe_migration import definition as safe_migration
from bot.core.config import PROJECT_ROOT
from bot.language import LANGUAGES, fold_digits
from bot.responses import DOMAIN_DIR, ResponseCatalogue
from bot.routing.taps import (
    LIST_ITEM_TITLE_MAX,
    QUICK_REPLY_TITLE_MAX,
    ChoiceSet,
    MissingLabel,
    TapCatalogue,
    names_every_number,
    numbered_lines,
)
from bot.screening.answers import parse_answer
from bot.screening.instruments import INSTRUMENTS_DIR, load_instrument
from bot.screening.session import ScreeningSession, control_word
from tests.unit.actions.conftest import make_tracker

KNOWLEDGE = PROJECT_ROOT / "knowledge"

#: Texts that offer choices but are never sent, and why. Anything else that offers
#: choices must be a declared menu's numbered text or one of its `mentions`.
NOT_SENT = {
    "knowledge/checks/text/{language}.yml#offer": (
        "the check's old offer of a counsellor; the referral offer (referral_offer) "
        "follows a check with warning signs instead"
    ),
    "knowledge/instruments/text/{language}.yml#flow.consent": (
        "the screening's consent as first written; utter_screening_offer asks it"
    ),
}
#: Spoken, not shown: a caller answers by voice or keypad (ivr/, tests/ivr).
SPOKEN = ("domain/responses/voice/",)

_NUMBERED_OFFER_LINES = 2
_STARRED_DIGIT = re.compile(r"\*\s*\d{1,2}\s*\*")
_DIGIT_EQUALS = re.compile(r"(?<![0-9])[0-9]\s*=\s*\S")
_YES_THEN_NO = re.compile(r"\byes\b[^.?!\n]{0,40}\bno\b", re.IGNORECASE)
_REPLY_WITH_A_DIGIT = re.compile(
    r"\b(?:reply|press|send|type|write)\b[^.\n]{0,25}?(?<![0-9])[0-9](?![0-9])", re.IGNORECASE
)


def offers_choices(text: str, language: str) -> list[str]:
    """The ways `text` offers choices, if any (empty when it offers none)."""
    folded = fold_digits(text)
    found = []
    if len(numbered_lines(folded)) >= _NUMBERED_OFFER_LINES:
        found.append("numbered lines")
    if _STARRED_DIGIT.search(folded):
        found.append("a starred number")
    if len(_DIGIT_EQUALS.findall(folded)) >= _NUMBERED_OFFER_LINES:
        found.append("numbers with their meaning (0 = …)")
    if _YES_THEN_NO.search(folded):
        found.append("yes or no")
    if language == "en" and _REPLY_WITH_A_DIGIT.search(folded):
        found.append("reply with a number")
    return found


@dataclass(frozen=True)
class Text:
    """One text in one language, and where it is written (its language as `{language}`)."""

    where: str
    language: str
    text: str


def reply_texts(domain_dir: Path = DOMAIN_DIR) -> Iterator[Text]:
    """Every written reply in every language (the domain's responses)."""
    catalogue = ResponseCatalogue.load(domain_dir)
    for name in catalogue.names():
        for language in LANGUAGES:
            # As the person sees it: a reply written once for all (the language menu, in
            # every script) is the same in every language.
            yield Text(f"domain:{name}", language, catalogue.render(name, language))


def knowledge_texts(root: Path = KNOWLEDGE) -> Iterator[Text]:
    """Every text of the knowledge files, per language: `path/<lang>.yml` files, and
    `<lang>:` keys inside a file (word lists are not texts and are skipped)."""
    for path in sorted(root.rglob("*.yml")):
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.stem in LANGUAGES:
            where = relative[: -len(f"{path.stem}.yml")] + "{language}.yml"
            for keys, text in _leaves(data):
                yield Text(f"{where}#{'.'.join(keys)}", path.stem, text)
            continue
        for keys, text in _leaves(data):
            language = next((k for k in keys if k in LANGUAGES), None)
            if language is not None:
                dotted = ".".join("{language}" if k == language else k for k in keys)
                yield Text(f"{relative}#{dotted}", language, text)


def _leaves(data: Any, keys: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*keys, str(key)))
    elif isinstance(data, str):
        yield keys, data


def declared_texts(taps: TapCatalogue) -> dict[str, ChoiceSet]:
    """Where each declared menu's choices are worded: its numbered text and mentions."""
    worded: dict[str, ChoiceSet] = {}
    for menu in taps.menus.values():
        own = f"domain:{menu.response}" if menu.response else str(menu.text)
        for where in (own, *menu.mentions):
            worded[where] = menu
    return worded


def undeclared_offers(taps: TapCatalogue, texts: list[Text]) -> list[str]:
    """Texts that offer choices in some language and belong to no declared menu."""
    declared = declared_texts(taps)
    found: dict[str, list[str]] = {}
    for text in texts:
        if text.where in declared or text.where in NOT_SENT:
            continue
        ways = offers_choices(text.text, text.language)
        if ways:
            found.setdefault(text.where, []).append(f"{text.language} ({', '.join(ways)})")
    return [f"{where}: {', '.join(langs)}" for where, langs in sorted(found.items())]


def form_problems(taps: TapCatalogue, menu: ChoiceSet, language: str, shown: str) -> list[str]:
    """What keeps `menu` from being tapped or typed in `language`, as `shown` words it."""
    problems = []
    if not names_every_number(shown, menu.numbered):
        problems.append(f"{menu.name}/{language}: the text does not name {menu.numbered}")
    try:
        options = taps.options(menu, language)
    except MissingLabel as error:
        return [*problems, f"{menu.name}/{language}: {error}"]
    limit = QUICK_REPLY_TITLE_MAX if menu.kind == "quick-reply" else LIST_ITEM_TITLE_MAX
    problems += [
        f"{menu.name}/{language}: label {o.title!r}"
        for o in options
        if not o.title.strip() or len(o.title) > limit
    ]
    return problems


@pytest.fixture(scope="module")
def taps() -> TapCatalogue:
    return TapCatalogue.load()


@pytest.fixture(scope="module")
def every_text() -> list[Text]:
    return [*reply_texts(), *knowledge_texts()]


# --- the texts -------------------------------------------------------------------------


def test_the_finder_sees_every_kind_of_offer() -> None:
    assert offers_choices("Pick one:\n1. A\n2. B", "hi")
    assert offers_choices("बस *1* लिख दीजिए", "hi")
    assert offers_choices("0 = बिल्कुल नहीं, 1 = कई दिन", "hi")
    assert offers_choices("*হ্যাঁ (yes)* বা *না (no)* লিখুন", "bn")
    assert offers_choices("Reply 1 for yes or 2 for no.", "en")
    assert offers_choices("१. हाँ\n२. नहीं", "hi")  # numbers in the language's own digits
    # Phone numbers, counts and keywords are no choices.
    assert not offers_choices("Call 112 now, or Tele-MANAS 14416. Write *talk to a person*.", "en")
    assert not offers_choices("Name 5 things you can see, 4 things you can touch.", "en")


def test_every_text_that_offers_choices_is_a_declared_menu(
    taps: TapCatalogue, every_text: list[Text]
) -> None:
    assert len({t.where for t in every_text}) > 200  # the finder reads everything
    assert undeclared_offers(taps, every_text) == []


def test_the_texts_the_menus_name_exist_in_every_language(
    taps: TapCatalogue, every_text: list[Text]
) -> None:
    present = {(t.where, t.language) for t in every_text}
    missing = [
        f"{where}/{language}"
        for where in declared_texts(taps)
        for language in LANGUAGES
        if (where, language) not in present
    ]
    assert missing == []


def test_the_not_sent_texts_are_really_not_sent() -> None:
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("actions", "bot", "ivr")
        for p in (PROJECT_ROOT / folder).rglob("*.py")
    )
    assert '["offer"][check]' in code  # eligibility's offer, the only "offer" read
    assert "safe_migration" not in re.findall(r'texts\([^)]*\)\["offer"\]', code)
    assert '"consent"' not in code and "'consent'" not in code


def test_a_removed_declaration_is_found(tmp_path: Path, every_text: list[Text]) -> None:
    """The same finder, on a copy of domain/ where one menu was forgotten."""
    domain = tmp_path / "domain"
    for path in DOMAIN_DIR.rglob("*.yml"):
        target = domain / path.relative_to(DOMAIN_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    menus = yaml.safe_load((domain / "menus.yml").read_text(encoding="utf-8"))
    del menus["menus"]["utter_confirm_delete"]
    (domain / "menus.yml").write_text(yaml.safe_dump(menus, allow_unicode=True))
    found = undeclared_offers(TapCatalogue.load(domain), every_text)
    assert [line.split(":")[0] + ":" + line.split(":")[1] for line in found] == [
        "domain:utter_confirm_delete"
    ]
    assert found[0].count("numbered lines") == len(LANGUAGES)


# --- the questions the screening and the checks ask ---------------------------------------


def screening_steps(language: str) -> Iterator[ScreeningSession]:
    """Every question a screening can ask, in `language`."""
    yield ScreeningSession(language=language)  # may we keep your answers?
    for path in sorted(INSTRUMENTS_DIR.glob("*.yml")):
        if path.stem in ("control_words",):
            continue
        instrument = load_instrument(path.stem)
        if instrument.gate:
            yield ScreeningSession(language=language, current=path.stem, step="gate")
        for index in range(len(instrument.items)):
            yield ScreeningSession(language=language, current=path.stem, step="item", index=index)
        if path.stem == "asq":
            yield ScreeningSession(language=language, current="asq", step="acuity")


def asked(action: Any, slots: dict[str, Any]) -> dict[str, Any]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, make_tracker(slots=slots), {}))
    [message] = dispatcher.messages
    return message  # type: ignore[no-any-return]


def question_problems(taps: TapCatalogue, message: dict[str, Any], language: str) -> list[str]:
    payloads = tuple(b["payload"] for b in message.get("buttons") or [])
    menu = taps.menu_for(payloads, message["text"], language) if payloads else None
    if menu is None:
        return [f"{language}: no declared choices to tap: {message['text'][:60]!r}"]
    return form_problems(taps, menu, language, message["text"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screening_question_can_be_tapped_and_typed(
    taps: TapCatalogue, language: str
) -> None:
    problems = []
    count = 0
    for session in screening_steps(language):
        message = asked(ActionAskScreeningAnswer(), {"screening_session": session.to_dict()})
        problems += question_problems(taps, message, language)
        count += 1
    assert count > 30
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_check_question_can_be_tapped_and_typed(taps: TapCatalogue, language: str) -> None:
    problems = []
    gate, questions = safe_migration()
    for asked_so_far in range(1 + len(questions)):
        # Answer "yes" to everything before: each question comes up in turn.
        session = CheckSession(language=language)
        session.answers = {q: 1 for q in [gate, *[q.id for q in questions]][:asked_so_far]}
        message = asked(ActionAskCheckAnswer(), {"check_session": session.to_dict()})
        problems += question_problems(taps, message, language)
    for check, rules in definitions().items():
        for question in rules["questions"]:
            session = EligibilitySession(check=check, language=language)
            before = rules["questions"][: rules["questions"].index(question)]
            session.answers = {q: 2 for q in before}  # no value settles the outcome early
            message = asked(
                ActionAskEligibilityAnswer(), {"eligibility_session": session.to_dict()}
            )
            problems += question_problems(taps, message, language)
    assert problems == []


# --- a tap and its words are the same answer ------------------------------------------------

ANSWER_MENUS = {
    "screening_frequency": "frequency",
    "screening_yes_no": "yes_no",
    "check_yes_no": "yes_no",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_typing_what_a_button_says_gives_the_buttons_answer(
    taps: TapCatalogue, language: str
) -> None:
    problems = []
    for name, scale in ANSWER_MENUS.items():
        menu = taps.menus[name]
        for option in taps.options(menu, language):
            by_tap = (
                control_word(option.payload, language),
                parse_answer(scale, option.payload, language),
            )
            by_words = (
                control_word(option.title, language),
                None
                if control_word(option.title, language)
                else parse_answer(scale, option.title, language),
            )
            if by_tap != by_words:
                problems.append(f"{name}/{language}: {option.title!r} {by_words} != {by_tap}")
    assert problems == []


# --- menus that offer the same payloads ------------------------------------------------------


def test_menus_with_the_same_payloads_are_told_apart_by_their_words(taps: TapCatalogue) -> None:
    """A yes and a no are offered by several menus: the reply's words pick the right labels,
    and a typed number means the same in each."""
    groups: dict[tuple[str, ...], list[ChoiceSet]] = {}
    for menu in taps.menus.values():
        groups.setdefault(menu.payloads, []).append(menu)
    shared = [group for group in groups.values() if len(group) > 1]
    assert len(shared) >= 2  # yes/no offers, and the two check-ins
    problems = []
    for group in shared:
        if len({menu.numbers for menu in group}) != 1:
            problems.append(f"{[m.name for m in group]}: numbered differently")
        for menu in group:
            for language in LANGUAGES:
                text = re.sub(r"\{\w+\}", "Malda", taps.numbered_text(menu, language))
                found = taps.menu_for(menu.payloads, f"Hi 🙂\n{text}", language)
                if found is not menu:
                    problems.append(f"{menu.name}/{language}: taken for {found and found.name}")
    assert problems == []
