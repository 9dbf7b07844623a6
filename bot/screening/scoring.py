"""Scores, bands and the next step, exactly as the instruments' authors publish them."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.screening.instruments import SCALES, load_instrument


@dataclass(frozen=True)
class ScreeningResult:
    """The outcome of one instrument."""

    instrument: str
    answers: tuple[int | None, ...]
    total: int
    band: str
    positive: bool
    flags: frozenset[str] = field(default_factory=frozenset)


def score(
    instrument_id: str,
    answers: list[int | None],
    *,
    acuity: int | None = None,
    alternative_cutoff: bool = False,
) -> ScreeningResult:
    """Score a completed instrument.

    Args:
        instrument_id: e.g. "phq9".
        answers: one value per item, in order. Only the ASQ accepts None (declined).
        acuity: the ASQ's acuity answer (1 yes, 0 no), asked only after a positive screen.
        alternative_cutoff: use the instrument's alternative cut-off (PC-PTSD-5: 3).

    Raises:
        ValueError: wrong number of answers or a value outside the scale.
    """
    instrument = load_instrument(instrument_id)
    if len(answers) != len(instrument.items):
        raise ValueError(
            f"{instrument_id} has {len(instrument.items)} items, got {len(answers)} answers"
        )
    allowed = SCALES[instrument.scale]
    for value in answers:
        if value is None and instrument_id == "asq":
            continue
        if value not in allowed:
            raise ValueError(f"{instrument_id}: answer {value!r} is outside {allowed}")
    if instrument_id == "asq":
        return _score_asq(answers, acuity)

    values = [int(v) for v in answers if v is not None]
    total = sum(values)
    threshold = (
        instrument.alternative_positive_from
        if alternative_cutoff and instrument.alternative_positive_from is not None
        else instrument.positive_from
    )
    flags = {
        flag
        for item, above, flag in instrument.flags
        if values[instrument.items.index(item)] > above
    }
    if instrument_id == "phq4":
        # The published PHQ-4 order: GAD-2 (items 1-2), then PHQ-2 (items 3-4).
        if sum(values[:2]) >= 3:
            flags.add("anxiety_positive")
        if sum(values[2:]) >= 3:
            flags.add("depression_positive")
    band = instrument.band_of(total)
    if alternative_cutoff and threshold is not None:
        band = "positive" if total >= threshold else "negative"
    return ScreeningResult(
        instrument=instrument_id,
        answers=tuple(answers),
        total=total,
        band=band,
        positive=threshold is not None and total >= threshold,
        flags=frozenset(flags),
    )


def _score_asq(answers: list[int | None], acuity: int | None) -> ScreeningResult:
    # NIMH: a yes to any of items 1-4, or declining to answer, is a positive screen.
    positive = any(value != 0 for value in answers)
    if not positive:
        band, flags = "negative", frozenset[str]()
    elif acuity == 1:
        band, flags = "acute_positive", frozenset({"acute"})
    elif acuity == 0:
        band, flags = "non_acute_positive", frozenset[str]()
    else:
        raise ValueError("a positive ASQ needs the acuity answer")
    return ScreeningResult(
        instrument="asq",
        answers=tuple(answers),
        total=sum(v or 0 for v in answers),
        band=band,
        positive=positive,
        flags=flags,
    )


def next_instruments(result: ScreeningResult) -> list[str]:
    """What follows a result: further instruments, or "crisis" / "handoff_high".

    PHQ-4 positive on its depression part leads to the PHQ-9, on its anxiety part to
    the GAD-7; PHQ-9 item 9 above 0 leads to the ASQ; an acute positive ASQ is a crisis,
    a non-acute positive a high-priority handoff.
    """
    if result.instrument == "phq4":
        steps = []
        if "depression_positive" in result.flags:
            steps.append("phq9")
        if "anxiety_positive" in result.flags:
            steps.append("gad7")
        return steps
    if result.instrument == "phq2":
        return ["phq9"] if result.positive else []
    if result.instrument == "gad2":
        return ["gad7"] if result.positive else []
    if result.instrument == "phq9" and "suicide_followup" in result.flags:
        return ["asq"]
    if result.instrument == "asq" and result.positive:
        return ["crisis"] if "acute" in result.flags else ["handoff_high"]
    return []
