"""Print detection accuracy on the labelled sample (the figures in docs/language-detection.md).

Run from the repository root: ``python -m tests.unit.language.report``.
"""

from __future__ import annotations

from collections import Counter

from bot.language import CONFIDENT, detect_language, normalise

try:  # imported as part of the tests package, or by pytest's rootdir-relative name
    from .samples import HELDOUT, NOT_CONFIDENT, PAIRS, SAMPLES, similarity
except ImportError:  # pragma: no cover - run as a script
    from samples import (  # type: ignore[no-redef]
        HELDOUT,
        NOT_CONFIDENT,
        PAIRS,
        SAMPLES,
        similarity,
    )

Sample = dict[tuple[str, str], list[str]]


def measure(samples: Sample = SAMPLES) -> dict[tuple[str, str], dict[str, float]]:
    """Score every labelled bucket.

    Args:
        samples: Messages keyed by (language, script).

    Returns:
        For each (language, script) bucket: ``n``, ``accuracy`` (top guess right),
        ``confident`` (share of messages at or above CONFIDENT) and
        ``confident_accuracy`` (accuracy among those).
    """
    results: dict[tuple[str, str], dict[str, float]] = {}
    for (lang, script), texts in samples.items():
        right = confident = confident_right = 0
        for text in texts:
            found = detect_language(text)
            ok = found.language == lang and found.script == script
            right += ok
            if found.confidence >= CONFIDENT:
                confident += 1
                confident_right += ok
        results[(lang, script)] = {
            "n": len(texts),
            "accuracy": right / len(texts),
            "confident": confident / len(texts),
            "confident_accuracy": confident_right / confident if confident else 0.0,
        }
    return results


def confusions(samples: Sample = SAMPLES) -> Counter[tuple[str, str, str | None]]:
    """Count (true language, script, guessed language) for every wrong guess."""
    wrong: Counter[tuple[str, str, str | None]] = Counter()
    for (lang, script), texts in samples.items():
        for text in texts:
            found = detect_language(text)
            if found.language != lang or found.script != script:
                wrong[(lang, script, found.language)] += 1
    return wrong


def _print_table(title: str, samples: Sample) -> None:
    results = measure(samples)
    print(f"== {title}")
    print(f"{'lang':5}{'script':8}{'n':>4}{'acc':>7}{'conf%':>7}{'acc@conf':>10}")
    for (lang, script), r in results.items():
        print(
            f"{lang:5}{script:8}{int(r['n']):>4}{r['accuracy']:>7.2f}"
            f"{r['confident']:>7.2f}{r['confident_accuracy']:>10.2f}"
        )
    for script in ("native", "latin"):
        rows = [r for (_, s), r in results.items() if s == script]
        n = sum(r["n"] for r in rows)
        acc = sum(r["accuracy"] * r["n"] for r in rows) / n
        print(f"overall {script}: {acc:.3f} over {int(n)} messages")
    print("confusions (true, script, guessed):", dict(confusions(samples)))


def _print_normalise() -> None:
    per_language = {}
    scores, same = [], []
    for lang, pairs in PAIRS.items():
        folded = [(normalise(n), normalise(r)) for n, r in pairs]
        lang_scores = [similarity(a, b) for a, b in folded]
        per_language[lang] = sum(lang_scores) / len(lang_scores)
        scores += lang_scores
        same += [x == y for a, b in folded for x, y in zip(a.split(), b.split(), strict=False)]
    print(f"== normalise: {len(scores)} native/romanised pairs")
    print(f"mean trigram Dice {sum(scores) / len(scores):.3f}, min {min(scores):.2f}")
    print(f"identical words {sum(same) / len(same):.3f}")
    print(" ".join(f"{lang}:{score:.2f}" for lang, score in per_language.items()))


def main() -> None:
    """Print the normalise similarity, the accuracy tables and the checks."""
    _print_normalise()
    _print_table("labelled sample", SAMPLES)
    _print_table("held-out sample", HELDOUT)
    loud = [t for t in NOT_CONFIDENT if detect_language(t).confidence >= CONFIDENT]
    print("confident on contentless messages:", loud)


if __name__ == "__main__":
    main()
