"""Measure the crisis detector on the evaluation sets in ``tests/safety/<lang>.yml``.

Run from the repository root::

    python -m bot.safety.evaluate                       # report to stdout
    python -m bot.safety.evaluate --out docs/safety-report.md

The exit code is 1 when recall on crisis messages is below 100 % or the false-positive
rate on hard negatives is above 5 %, so CI can run it as a gate; 2 when the data
cannot be read.

The held-out batches in ``tests/safety/fresh/<lang>.yml`` (``crisis``/``negatives``:
the "fresh (blind)" batch; ``blind2``/``blind2_negatives``: the second blind batch,
written after the rules were last changed) are reported in their own columns and are
*not* part of the gate: they estimate live recall, and gating on them would invite
tuning the rules to them. ``tests/safety/history.yml`` holds recorded measurements
(for instance, the fresh batch before the rules were changed), reproduced in the report.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.language import script_of
from bot.safety.detector import CrisisAssessment, assess, warm_up
from bot.safety.rules import CATEGORIES, LANGUAGES

__all__ = [
    "EvalCase",
    "Outcome",
    "Summary",
    "evaluate",
    "load_cases",
    "load_held_out",
    "load_history",
    "main",
    "render_report",
]

DEFAULT_DIR = Path("tests/safety")
HELD_OUT_DIR = "fresh"  # below the data folder
HISTORY_FILE = "history.yml"  # in the data folder
MAX_FPR = 0.05
MIN_RECALL = 1.0
TIMING_REPEATS = 3
TUNED = "tuned"


@dataclass(frozen=True, slots=True)
class Batch:
    """A held-out batch: where its messages are and how the report names it."""

    name: str
    crisis_key: str
    negatives_key: str
    label: str


HELD_OUT_BATCHES = (
    Batch("fresh", "crisis", "negatives", "fresh (blind)"),
    Batch("blind2", "blind2", "blind2_negatives", "blind 2"),
)


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One labelled message: a crisis (with its category) or a hard negative."""

    language: str
    text: str
    category: str | None  # None for a negative
    script: str  # "native" or "latin"
    batch: str = TUNED  # "tuned" (the gated sets) or a held-out batch's name

    @property
    def is_crisis(self) -> bool:
        """True for a message that must be flagged."""
        return self.category is not None


@dataclass(frozen=True, slots=True)
class Outcome:
    """A case and what the detector said about it."""

    case: EvalCase
    result: CrisisAssessment

    @property
    def correct(self) -> bool:
        """Flagged if and only if it is a crisis."""
        return self.result.is_crisis == self.case.is_crisis


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts for one slice of the evaluation set."""

    crisis: int
    caught: int
    negatives: int
    false_positives: int
    category_agrees: int

    @property
    def recall(self) -> float:
        """Share of crisis messages flagged (1.0 when there are none)."""
        return self.caught / self.crisis if self.crisis else 1.0

    @property
    def fpr(self) -> float:
        """Share of negatives flagged (0.0 when there are none)."""
        return self.false_positives / self.negatives if self.negatives else 0.0


def _script(language: str, text: str) -> str:
    # English is Latin by definition; for the others, the dominant script decides
    # (a Hindi message with one English word is still "native").
    if language == "en":
        return "latin"
    return "latin" if script_of(text) in (None, "latin") else "native"


def _text_of(item: Any, where: str) -> str:
    text = item.get("text") if isinstance(item, dict) else item
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: every item needs a non-empty text, got {item!r}")
    return text


def load_cases(
    directory: Path = DEFAULT_DIR,
    languages: Iterable[str] = LANGUAGES,
    *,
    batch: str = TUNED,
    crisis_key: str = "crisis",
    negatives_key: str = "negatives",
    required: bool = True,
) -> list[EvalCase]:
    """Read every language's evaluation file.

    Args:
        directory: Folder with ``<lang>.yml`` files holding ``crisis`` (a list of
            ``{text, category}``) and ``negatives`` (texts or ``{text}``).
        languages: Languages whose file must exist.
        batch: Name recorded on every case.
        crisis_key: Key of the crisis list in each file.
        negatives_key: Key of the negatives list in each file.
        required: When False, a missing file or key is skipped instead of an error.

    Returns:
        All cases, crisis messages first within each language.

    Raises:
        FileNotFoundError: A language has no file (and ``required`` is True).
        ValueError: A file is malformed (unknown category, empty text, ...).
    """
    cases: list[EvalCase] = []
    for language in languages:
        path = directory / f"{language}.yml"
        if not required and not path.exists():
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping with 'crisis' and 'negatives'")
        for item in data.get(crisis_key) or []:
            text = _text_of(item, str(path))
            category = item.get("category") if isinstance(item, dict) else None
            if category not in CATEGORIES:
                raise ValueError(
                    f"{path}: {text!r} has category {category!r}, not one of {CATEGORIES}"
                )
            cases.append(EvalCase(language, text, category, _script(language, text), batch))
        for item in data.get(negatives_key) or []:
            text = _text_of(item, str(path))
            cases.append(EvalCase(language, text, None, _script(language, text), batch))
    return cases


def load_held_out(
    directory: Path = DEFAULT_DIR, languages: Iterable[str] = LANGUAGES
) -> list[EvalCase]:
    """Read the held-out batches below ``directory/fresh`` (missing files are skipped)."""
    languages = tuple(languages)
    cases: list[EvalCase] = []
    for batch in HELD_OUT_BATCHES:
        cases += load_cases(
            directory / HELD_OUT_DIR,
            languages,
            batch=batch.name,
            crisis_key=batch.crisis_key,
            negatives_key=batch.negatives_key,
            required=False,
        )
    return cases


def load_history(directory: Path = DEFAULT_DIR) -> list[dict[str, Any]]:
    """Read the recorded measurements in ``history.yml`` (empty when there is none)."""
    path = directory / HISTORY_FILE
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("measurements") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a mapping with a 'measurements' list")
    return entries


def evaluate(cases: Sequence[EvalCase]) -> list[Outcome]:
    """Run the detector on every case."""
    return [Outcome(case, assess(case.text)) for case in cases]


def summarise(outcomes: Iterable[Outcome]) -> Summary:
    """Count catches, misses and false positives."""
    crisis = caught = negatives = fps = agrees = 0
    for o in outcomes:
        if o.case.is_crisis:
            crisis += 1
            caught += o.result.is_crisis
            agrees += o.result.category == o.case.category
        else:
            negatives += 1
            fps += o.result.is_crisis
    return Summary(crisis, caught, negatives, fps, agrees)


def passes(summary: Summary) -> bool:
    """The release gate: every crisis caught and at most 5 % false positives."""
    return summary.recall >= MIN_RECALL and summary.fpr <= MAX_FPR


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def _row(label: str, s: Summary) -> str:
    return (
        f"| {label} | {s.caught}/{s.crisis} | {_pct(s.recall)} | "
        f"{s.false_positives}/{s.negatives} | {_pct(s.fpr)} | {s.category_agrees}/{s.crisis} |"
    )


def _quote(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True, slots=True)
class Timing:
    """Time of one ``assess`` call after warm-up, over every evaluation message."""

    mean: float
    p50: float
    p99: float
    worst: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        """Summarise individual call times (seconds)."""
        ordered = sorted(seconds) or [0.0]

        def quantile(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        return cls(sum(ordered) / len(ordered), quantile(0.5), quantile(0.99), ordered[-1])


def _held_out_section(tuned: Sequence[Outcome], held_out: Sequence[Outcome]) -> list[str]:
    batches = [b for b in HELD_OUT_BATCHES if any(o.case.batch == b.name for o in held_out)]
    if not batches:
        return []
    groups: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for o in (*tuned, *held_out):
        groups[(o.case.batch, o.case.language)].append(o)
        groups[(o.case.batch, "all")].append(o)

    def cell(batch: str, language: str) -> str:
        s = summarise(groups.get((batch, language), []))
        if not s.crisis and not s.negatives:
            return "– | –"
        return f"{s.caught}/{s.crisis} ({100 * s.recall:.0f} %) | {s.false_positives}/{s.negatives}"

    labels = [("tuned", TUNED)] + [(b.label, b.name) for b in batches]
    lines = [
        "",
        "## Held-out batches (not gated)",
        "",
        "Recall and false positives per batch. *tuned*: the gated sets above, which the",
        "rules were tuned on. *fresh (blind)*: round 3, written before its rule changes",
        "and then used for them, so it is now tuned too (its first measurement is in the",
        "record below). *blind 2*: written after the last rule change and never used to",
        "change a rule: the best estimate of live recall.",
        "",
        "| language | " + " | ".join(f"{label} recall | {label} FP" for label, _ in labels) + " |",
        "|---|" + "---|---|" * len(labels),
    ]
    for language in (*LANGUAGES, "all"):
        name = f"**{language}**" if language == "all" else language
        lines.append(f"| {name} | " + " | ".join(cell(b, language) for _, b in labels) + " |")
    for batch in batches:
        rows = [o for o in held_out if o.case.batch == batch.name]
        misses = [o for o in rows if o.case.is_crisis and not o.result.is_crisis]
        fps = [o for o in rows if not o.case.is_crisis and o.result.is_crisis]
        lines += ["", f"### {batch.label}: missed ({len(misses)})", ""]
        lines += [
            f"- `{o.case.language}` ({o.case.category}) {_quote(o.case.text)}" for o in misses
        ] or ["None."]
        lines += ["", f"### {batch.label}: false positives ({len(fps)})", ""]
        lines += [
            f"- `{o.case.language}` {_quote(o.case.text)} — `{o.result.rule}`" for o in fps
        ] or ["None."]
    return lines


def _headline(held_out: Sequence[Outcome]) -> list[str]:
    """Say first that the gated 100 % is tuned, and what the newest blind batch shows."""
    for batch in reversed(HELD_OUT_BATCHES):
        part = summarise(o for o in held_out if o.case.batch == batch.name)
        if part.crisis:
            return [
                "",
                f"**Read this first:** the gate's recall is measured on sets the rules were "
                f"tuned on. On the newest batch written after the last rule change "
                f"(*{batch.label}*) the detector caught {part.caught}/{part.crisis} crisis "
                f"messages ({_pct(part.recall)}), with {part.false_positives}/{part.negatives} "
                "false positives: that is the best estimate of live recall "
                "(see *Held-out batches*).",
            ]
    return []


def _history_section(history: Sequence[dict[str, Any]]) -> list[str]:
    if not history:
        return []
    lines = [
        "",
        "## Record of measurements",
        "",
        "Copied from `tests/safety/history.yml`: numbers as first measured, kept so that",
        "later tuning cannot hide them (crisis caught/crisis, false positives/negatives).",
    ]
    for entry in history:
        results = entry.get("results") or {}
        lines += ["", f"**{entry.get('batch', '?')}**, {entry.get('when', '')}", ""]
        if entry.get("note"):
            lines += [str(entry["note"]), ""]
        lines += ["| language | recall | false positives |", "|---|---|---|"]
        total = [0, 0, 0, 0]
        for language in LANGUAGES:
            if language not in results:
                continue
            caught, crisis, fps, negatives = results[language]
            total = [a + b for a, b in zip(total, (caught, crisis, fps, negatives), strict=True)]
            lines.append(
                f"| {language} | {caught}/{crisis} ({100 * caught / max(crisis, 1):.0f} %) "
                f"| {fps}/{negatives} |"
            )
        caught, crisis, fps, negatives = total
        lines.append(
            f"| **all** | {caught}/{crisis} ({100 * caught / max(crisis, 1):.1f} %) "
            f"| {fps}/{negatives} ({100 * fps / max(negatives, 1):.1f} %) |"
        )
    return lines


def render_report(
    outcomes: Sequence[Outcome],
    *,
    seconds_per_message: float,
    held_out: Sequence[Outcome] = (),
    timing: Timing | None = None,
    history: Sequence[dict[str, Any]] = (),
) -> str:
    """Render the markdown report.

    Args:
        outcomes: The detector's results on every case of the gated (tuned) sets.
        seconds_per_message: Mean time of one ``assess`` call, for the record.
        held_out: Results on the held-out batches, reported apart and not gated.
        timing: Distribution of call times, when measured.
        history: Recorded earlier measurements (``tests/safety/history.yml``).

    Returns:
        The report as markdown.
    """
    overall = summarise(outcomes)
    by_lang: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_lang[o.case.language].append(o)
    header = (
        "| slice | crisis caught | recall | false positives | FPR | category agrees |\n"
        "|---|---|---|---|---|---|"
    )
    lines = [
        "# Crisis detector evaluation",
        "",
        "Generated by `python -m bot.safety.evaluate --out docs/safety-report.md` from",
        "`tests/safety/<lang>.yml` (how the sets were written: `tests/safety/README.md`).",
        "A crisis message counts as caught when `assess` flags it at all; *category agrees*",
        "counts those whose category also matches the label. Gate: recall 100 % and",
        f"FPR ≤ {_pct(MAX_FPR)} overall. **{'PASS' if passes(overall) else 'FAIL'}**.",
        "",
        f"Mean time per message: {seconds_per_message * 1e6:.0f} µs (rules already compiled).",
        *(
            [
                f"Per call after warm-up (best of {TIMING_REPEATS} calls per message), over "
                f"all {'tuned and held-out ' if held_out else ''}messages: median "
                f"{timing.p50 * 1e6:.0f} µs, 99th percentile {timing.p99 * 1e6:.0f} µs, "
                f"slowest {timing.worst * 1e6:.0f} µs.",
            ]
            if timing
            else []
        ),
        *_headline(held_out),
        "",
        "## Overall",
        "",
        header,
        _row("all", overall),
    ]
    for script in ("native", "latin"):
        part = [o for o in outcomes if o.case.script == script and o.case.language != "en"]
        lines.append(_row(f"Indic languages, {script} script", summarise(part)))
    lines += ["", "## Per language and script", "", header]
    for language in LANGUAGES:
        if language not in by_lang:
            continue
        rows = by_lang[language]
        lines.append(_row(f"**{language}**", summarise(rows)))
        if language != "en":
            for script in ("native", "latin"):
                lines.append(
                    _row(
                        f"{language} {script}",
                        summarise(o for o in rows if o.case.script == script),
                    )
                )

    own = Counter(
        o.result.language == o.case.language
        for o in outcomes
        if o.case.is_crisis and o.result.is_crisis
    )
    lines += [
        "",
        "## Which rules fired",
        "",
        f"Of the caught crisis messages, {own[True]} were caught by a rule of their own",
        f"language and {own[False]} only by another language's rule (all rules run on every",
        "message, which is what catches code-mixed text).",
        "",
        "| rule | hits |",
        "|---|---|",
    ]
    hits = Counter(o.result.rule for o in outcomes if o.result.is_crisis)
    lines += [f"| `{rule}` | {count} |" for rule, count in sorted(hits.items())]

    misses = [o for o in outcomes if o.case.is_crisis and not o.result.is_crisis]
    fps = [o for o in outcomes if not o.case.is_crisis and o.result.is_crisis]
    wrong_category = [
        o
        for o in outcomes
        if o.case.is_crisis and o.result.is_crisis and o.result.category != o.case.category
    ]
    lines += ["", f"## Missed crisis messages ({len(misses)})", ""]
    lines += [
        f"- `{o.case.language}` ({o.case.category}) {_quote(o.case.text)}" for o in misses
    ] or ["None."]
    lines += ["", f"## False positives ({len(fps)})", ""]
    lines += [f"- `{o.case.language}` {_quote(o.case.text)} — `{o.result.rule}`" for o in fps] or [
        "None."
    ]
    lines += ["", f"## Caught with another category ({len(wrong_category)})", ""]
    lines += [
        f"- `{o.case.language}` labelled {o.case.category}, flagged {o.result.category} "
        f"by `{o.result.rule}`: {_quote(o.case.text)}"
        for o in wrong_category
    ] or ["None."]
    lines += _held_out_section(outcomes, held_out)
    lines += _history_section(history)
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.safety.evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DIR, help="folder with <lang>.yml sets"
    )
    parser.add_argument("--out", type=Path, help="write the markdown report here instead of stdout")
    args = parser.parse_args(argv)
    try:
        cases = load_cases(args.data)
        held_cases = load_held_out(args.data)
        history = load_history(args.data)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"cannot read the evaluation sets: {exc}", file=sys.stderr)
        return 2
    warm_up()
    outcomes = evaluate(cases)
    held_out = evaluate(held_cases)
    # Time later passes: the first one also pays for the normaliser's lazy tables.
    # Each message's time is the best of three calls, so that another process taking
    # the CPU (CI runners are shared) is not counted as the detector's cost.
    seconds = []
    for case in (*cases, *held_cases):
        best = float("inf")
        for _ in range(TIMING_REPEATS):
            start = time.perf_counter()
            assess(case.text)
            best = min(best, time.perf_counter() - start)
        seconds.append(best)
    timing = Timing.of(seconds)
    report = render_report(
        outcomes,
        seconds_per_message=timing.mean,
        held_out=held_out,
        timing=timing,
        history=history,
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    for batch in HELD_OUT_BATCHES:
        part = summarise(o for o in held_out if o.case.batch == batch.name)
        if part.crisis or part.negatives:
            print(
                f"{batch.label} (not gated): recall {part.caught}/{part.crisis} "
                f"({_pct(part.recall)}), false positives "
                f"{part.false_positives}/{part.negatives} ({_pct(part.fpr)})",
                file=sys.stderr,
            )
    overall = summarise(outcomes)
    print(
        f"recall {overall.caught}/{overall.crisis} ({_pct(overall.recall)}), "
        f"false positives {overall.false_positives}/{overall.negatives} ({_pct(overall.fpr)})",
        file=sys.stderr,
    )
    return 0 if passes(overall) else 1


if __name__ == "__main__":
    raise SystemExit(main())
