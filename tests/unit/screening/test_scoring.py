"""Every published cut-off at its boundaries, and the steps that follow a result."""

from __future__ import annotations

import pytest

from bot.screening import load_instrument, next_instruments, score


def answers_for_total(total: int, items: int, top: int = 3) -> list[int | None]:
    values: list[int | None] = []
    left = total
    for _ in range(items):
        value = min(top, left)
        values.append(value)
        left -= value
    assert left == 0
    return values


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands(total: int, band: str) -> None:
    # Keep item 9 at 0 so that the band alone is tested.
    values = [*answers_for_total(total, 8), 0] if total <= 24 else [3] * 8 + [total - 24]
    result = score("phq9", values)
    assert (result.total, result.band) == (total, band)
    assert result.positive is (total >= 10)


@pytest.mark.parametrize(("item9", "follow"), [(0, []), (1, ["asq"]), (2, ["asq"]), (3, ["asq"])])
def test_phq9_item_9_above_zero_leads_to_the_asq(item9: int, follow: list[str]) -> None:
    result = score("phq9", [0] * 8 + [item9])
    assert ("suicide_followup" in result.flags) is bool(follow)
    assert next_instruments(result) == follow


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands(total: int, band: str) -> None:
    result = score("gad7", answers_for_total(total, 7))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize("instrument", ["phq2", "gad2"])
@pytest.mark.parametrize(("total", "positive"), [(0, False), (2, False), (3, True), (6, True)])
def test_two_item_screens_are_positive_from_3(instrument: str, total: int, positive: bool) -> None:
    result = score(instrument, answers_for_total(total, 2))
    assert result.positive is positive
    assert result.band == ("positive" if positive else "negative")
    follow = {"phq2": "phq9", "gad2": "gad7"}[instrument]
    assert next_instruments(result) == ([follow] if positive else [])


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "normal"),
        (2, "normal"),
        (3, "mild"),
        (5, "mild"),
        (6, "moderate"),
        (8, "moderate"),
        (9, "severe"),
        (12, "severe"),
    ],
)
def test_phq4_bands(total: int, band: str) -> None:
    assert score("phq4", answers_for_total(total, 4)).band == band


@pytest.mark.parametrize(
    ("values", "follow"),
    [
        ([0, 0, 0, 0], []),
        ([2, 1, 0, 0], ["gad7"]),  # GAD-2 part (items 1-2) = 3
        ([0, 0, 1, 2], ["phq9"]),  # PHQ-2 part (items 3-4) = 3
        ([1, 1, 1, 1], []),  # total 4 is "mild", yet neither part reaches 3
        ([3, 3, 3, 3], ["phq9", "gad7"]),
    ],
)
def test_phq4_parts_decide_what_follows(values: list[int | None], follow: list[str]) -> None:
    assert next_instruments(score("phq4", values)) == follow


@pytest.mark.parametrize(("total", "positive"), [(0, False), (3, False), (4, True), (5, True)])
def test_pc_ptsd5_default_cutoff_is_4(total: int, positive: bool) -> None:
    result = score("pc_ptsd5", answers_for_total(total, 5, top=1))
    assert result.positive is positive


@pytest.mark.parametrize(("total", "positive"), [(2, False), (3, True)])
def test_pc_ptsd5_alternative_cutoff_is_3(total: int, positive: bool) -> None:
    result = score("pc_ptsd5", answers_for_total(total, 5, top=1), alternative_cutoff=True)
    assert result.positive is positive
    assert load_instrument("pc_ptsd5").alternative_positive_from == 3


def test_asq_all_no_is_negative_without_acuity() -> None:
    result = score("asq", [0, 0, 0, 0])
    assert (result.positive, result.band) == (False, "negative")
    assert next_instruments(result) == []


@pytest.mark.parametrize("position", range(4))
@pytest.mark.parametrize("answer", [1, None])  # a yes, or declining to answer
def test_asq_any_yes_or_refusal_is_positive(position: int, answer: int | None) -> None:
    values: list[int | None] = [0, 0, 0, 0]
    values[position] = answer
    acute = score("asq", values, acuity=1)
    assert (acute.band, next_instruments(acute)) == ("acute_positive", ["crisis"])
    non_acute = score("asq", values, acuity=0)
    assert (non_acute.band, next_instruments(non_acute)) == ("non_acute_positive", ["handoff_high"])
    with pytest.raises(ValueError, match="acuity"):
        score("asq", values)


@pytest.mark.parametrize(
    ("instrument", "values"),
    [
        ("phq9", [0] * 8),
        ("gad7", [0] * 8),
        ("phq9", [0] * 8 + [4]),
        ("gad2", [0, -1]),
        ("pc_ptsd5", [0, 0, 0, 0, 2]),
        ("phq9", [None] * 9),
    ],
)
def test_wrong_counts_and_values_are_refused(instrument: str, values: list[int | None]) -> None:
    with pytest.raises(ValueError):
        score(instrument, values)
