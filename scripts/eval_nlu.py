"""Evaluate the trained model on the held-out NLU files and write a report.

Runs in the engine environment (it loads the model with Rasa's own Agent):
    PYTHONPATH=. .venv-rasa/bin/python scripts/eval_nlu.py --model models/sahay.tar.gz

Reports intent accuracy and macro-F1 per language and per script (native / romanised),
the worst confusions, and the recall of the crisis intents.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from rasa.core.agent import Agent
from rasa.shared.nlu.training_data.loading import load_data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.language import script_of

CRISIS_INTENTS = ("express_suicidal_thoughts", "report_danger")
TARGET_F1 = 0.90
TARGET_CRISIS_RECALL = 0.98

Example = tuple[str, str, str, str]  # language, script kind, gold intent, text


def load_examples(folder: Path) -> list[Example]:
    examples = []
    for path in sorted(folder.glob("*.yml")):
        for message in load_data(str(path)).intent_examples:
            text = message.get("text")
            kind = "romanised" if script_of(text) == "latin" else "native"
            if path.stem == "en":
                kind = "native"
            examples.append((path.stem, kind, message.get("intent"), text))
    return examples


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    labels = {gold for gold, _ in pairs}
    scores = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else 0.0


async def predict(agent: Agent, examples: list[Example]) -> tuple[list[str], float]:
    predictions = []
    started = time.perf_counter()
    for _, _, _, text in examples:
        parsed = await agent.parse_message(text)
        predictions.append(parsed["intent"]["name"])
    return predictions, time.perf_counter() - started


def report(examples: list[Example], predictions: list[str], seconds: float) -> tuple[str, bool]:
    groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for (language, kind, gold, _), predicted in zip(examples, predictions, strict=False):
        groups[(language, kind)].append((gold, predicted))
        groups[(language, "all")].append((gold, predicted))
    all_pairs = [(ex[2], p) for ex, p in zip(examples, predictions, strict=False)]
    lines = [
        "# NLU evaluation",
        "",
        "Made by `make eval-nlu` (scripts/eval_nlu.py): the model trained on `data/nlu` "
        "is scored on the held-out files `tests/nlu/<lang>.yml`, written separately from "
        "the training data. Script: *native* = the language's own script (English counts "
        "as native), *romanised* = Latin letters.",
        "",
        f"Overall: {len(all_pairs)} messages, accuracy {accuracy(all_pairs):.3f}, "
        f"macro-F1 {macro_f1(all_pairs):.3f}; {1000 * seconds / max(1, len(all_pairs)):.1f} ms "
        "per message in-process. Targets: macro-F1 ≥ 0.90 in every language and script; "
        "crisis-intent recall ≥ 0.98.",
        "",
        "| language | script | n | accuracy | macro-F1 | meets 0.90 |",
        "|---|---|---|---|---|---|",
    ]
    ok = True
    for (language, kind), pairs in sorted(groups.items()):
        f1 = macro_f1(pairs)
        meets = f1 >= TARGET_F1
        ok &= meets
        lines.append(
            f"| {language} | {kind} | {len(pairs)} | {accuracy(pairs):.3f} | {f1:.3f} | "
            f"{'yes' if meets else f'**no** (−{TARGET_F1 - f1:.3f})'} |"
        )
    lines += [
        "",
        "## Crisis intents",
        "",
        "| intent | language | recall | missed as |",
        "|---|---|---|---|",
    ]
    for intent in CRISIS_INTENTS:
        by_language: dict[str, list[str]] = defaultdict(list)
        for (language, _, gold, _), predicted in zip(examples, predictions, strict=False):
            if gold == intent:
                by_language[language].append(predicted)
                by_language["all"].append(predicted)
        for language, predicted in sorted(by_language.items()):
            recall = sum(1 for p in predicted if p == intent) / len(predicted)
            if language == "all":
                ok &= recall >= TARGET_CRISIS_RECALL
            missed = Counter(p for p in predicted if p != intent)
            lines.append(
                f"| {intent} | {language} | {recall:.3f} | "
                f"{', '.join(f'{k} ×{v}' for k, v in missed.most_common(3)) or '—'} |"
            )
    confusions = Counter((g, p) for g, p in all_pairs if g != p)
    lines += ["", "## Worst confusions", "", "| gold | predicted | count |", "|---|---|---|"]
    for (gold, predicted), count in confusions.most_common(15):
        lines.append(f"| {gold} | {predicted} | {count} |")
    lines += ["", "## Sample of misses", ""]
    for (language, kind, gold, text), predicted in list(
        (ex, p) for ex, p in zip(examples, predictions, strict=False) if ex[2] != p
    )[:40]:
        lines.append(f"- `{language}` {kind}: “{text}” — {gold} → {predicted}")
    lines += [
        "",
        "The gateway's crisis detector (`bot/safety`, `docs/safety-report.md`) runs before "
        "NLU on every message; these crisis intents are its second line.",
    ]
    return "\n".join(lines) + "\n", ok


def main() -> int:
    parser = argparse.ArgumentParser(description="Evaluate the NLU model on tests/nlu")
    parser.add_argument("--model", default="models/sahay.tar.gz")
    parser.add_argument("--tests", default="tests/nlu")
    parser.add_argument("--out", default="docs/nlu-report.md")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    examples = load_examples(Path(args.tests))
    agent = Agent.load(args.model)
    predictions, seconds = asyncio.run(predict(agent, examples))
    text, ok = report(examples, predictions, seconds)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps({"predictions": predictions}))
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
