"""The screening conversation as data: consent, follow-ups, stop/skip/person, crisis."""

from __future__ import annotations

from bot.screening.session import ScreeningSession, answer, control_word, question, start


def run(session: ScreeningSession, replies: list[str]) -> list[str]:
    return [answer(session, reply) for reply in replies]


def test_phq4_negative_ends_after_four_questions() -> None:
    session = start(language="en", trauma=False)
    assert question(session).scale == "yes_no"  # may we keep your answers?
    assert run(session, ["yes", "0", "1", "1", "0"])[-1] == "done"
    assert [r["instrument"] for r in session.results] == ["phq4"]
    assert session.keep is True and session.outcome is None


def test_positive_parts_lead_to_phq9_then_gad7() -> None:
    session = start(language="en", trauma=False)
    run(session, ["no", "2", "1", "2", "1"])
    assert session.current == "phq9" and question(session).number == 1
    assert question(session).total == 9
    run(session, ["1"] * 8 + ["0"])  # item 9 at 0: no suicide-risk follow-up
    assert session.current == "gad7"
    assert run(session, ["1"] * 7)[-1] == "done"
    assert [r["instrument"] for r in session.results] == ["phq4", "phq9", "gad7"]
    assert session.results[1]["band"] == "mild" and session.keep is False


def test_item_9_leads_to_the_asq_and_an_acute_yes_to_the_crisis_path() -> None:
    session = start(language="en", trauma=False)
    run(session, ["yes", "0", "0", "2", "2"])
    run(session, ["1"] * 8 + ["2"])
    assert session.current == "asq"
    run(session, ["no", "yes", "no", "no"])
    assert session.step == "acuity"
    assert answer(session, "yes") == "done"
    assert session.outcome == "crisis"
    assert session.results[-1]["band"] == "acute_positive"


def test_non_acute_asq_asks_for_a_high_priority_handoff() -> None:
    session = start(language="en", trauma=False)
    run(session, ["yes", "0", "0", "2", "2"])
    run(session, ["0"] * 8 + ["1"])
    run(session, ["yes", "no", "no", "no", "no"])
    assert session.outcome == "handoff_high"


def test_trauma_history_adds_pc_ptsd5_with_its_gate() -> None:
    session = start(language="en", trauma=True)
    run(session, ["yes", "0", "0", "0", "0"])
    assert session.current == "pc_ptsd5" and session.step == "gate"
    run(session, ["yes", "1", "1", "1", "1", "2"])
    assert session.results[-1]["instrument"] == "pc_ptsd5"
    assert session.results[-1]["positive"] is True
    gate_no = start(language="en", trauma=True)
    assert run(gate_no, ["yes", "0", "0", "0", "0", "no"])[-1] == "done"
    assert [r["instrument"] for r in gate_no.results] == ["phq4"]


def test_stop_skip_and_person_work_at_every_question() -> None:
    session = start(language="hi", trauma=False)
    run(session, ["1", "2"])
    assert answer(session, "छोड़ो") == "skipped"
    assert answer(session, "bas karo") == "stopped" and session.outcome == "stopped"
    other = start(language="bn", trauma=False)
    assert answer(other, "talk to a person") == "human"


def test_unclear_answers_are_asked_again() -> None:
    session = start(language="en", trauma=False)
    run(session, ["yes"])
    assert answer(session, "hmm") == "unclear"
    assert session.index == 0


def test_session_survives_the_slot_round_trip() -> None:
    session = start(language="ta", trauma=True)
    run(session, ["1", "1"])
    again = ScreeningSession.from_dict(session.to_dict())
    assert again == session


def test_control_words_in_several_languages() -> None:
    assert control_word("stop", "ta") == "stop"
    assert control_word("ruko", "hi") == "stop"
    assert control_word("nirthu", "ml") == "stop"
    assert control_word("2", "hi") is None
