"""Measure the crisis detector on the evaluation sets in ``tests/safety/<lang>.yml``.

Run from the repository root::

    python -m bot.safety.evaluate                       # report to stdout
    python -m bot.safety.evaluate --out docs/safety-report.md

The exit code is 1 when recall on crisis messages is below 100 % or the false-positive
rate on hard negatives is above 5 %, so CI can run it as a gate; 2 when the data
cannot be read.
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

__all__ = ["EvalCase", "Outcome", "Summary", "evaluate", "load_cases", "main", "render_report"]

DEFAULT_DIR = Path("tests/safety")
MAX_FPR = 0.05
MIN_RECALL = 1.0


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One labelled message: a crisis (with its category) or a hard negative."""

    language: str
    text: str
    category: str | None  # None for a negative
    script: str  # "native" or "latin"

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
    directory: Path = DEFAULT_DIR, languages: Iterable[str] = LANGUAGES
) -> list[EvalCase]:
    """Read every language's evaluation file.

    Args:
        directory: Folder with ``<lang>.yml`` files holding ``crisis`` (a list of
            ``{text, category}``) and ``negatives`` (texts or ``{text}``).
        languages: Languages whose file must exist.

    Returns:
        All cases, crisis messages first within each language.

    Raises:
        FileNotFoundError: A language has no file.
        ValueError: A file is malformed (unknown category, empty text, ...).
    """
    cases: list[EvalCase] = []
    for language in languages:
        path = directory / f"{language}.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping with 'crisis' and 'negatives'")
        for item in data.get("crisis") or []:
            text = _text_of(item, str(path))
            category = item.get("category") if isinstance(item, dict) else None
            if category not in CATEGORIES:
                raise ValueError(
                    f"{path}: {text!r} has category {category!r}, not one of {CATEGORIES}"
                )
            cases.append(EvalCase(language, text, category, _script(language, text)))
        for item in data.get("negatives") or []:
            text = _text_of(item, str(path))
            cases.append(EvalCase(language, text, None, _script(language, text)))
    return cases


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


def render_report(outcomes: Sequence[Outcome], *, seconds_per_message: float) -> str:
    """Render the markdown report.

    Args:
        outcomes: The detector's results on every case.
        seconds_per_message: Mean time of one ``assess`` call, for the record.

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
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"cannot read the evaluation sets: {exc}", file=sys.stderr)
        return 2
    warm_up()
    outcomes = evaluate(cases)
    # Time a second pass: the first one also pays for the normaliser's lazy tables.
    start = time.perf_counter()
    evaluate(cases)
    per_message = (time.perf_counter() - start) / max(len(cases), 1)
    report = render_report(outcomes, seconds_per_message=per_message)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    overall = summarise(outcomes)
    print(
        f"recall {overall.caught}/{overall.crisis} ({_pct(overall.recall)}), "
        f"false positives {overall.false_positives}/{overall.negatives} ({_pct(overall.fpr)})",
        file=sys.stderr,
    )
    return 0 if passes(overall) else 1


if __name__ == "__main__":
    raise SystemExit(main())
