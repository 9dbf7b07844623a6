"""How the two crisis layers do together on the blind batches: the gateway's phrase
rules (bot.safety), Rasa's crisis intents (the trained model), and either.

Runs in the engine environment (it loads the model with Rasa's Agent):
    PYTHONPATH=. .venv-rasa/bin/python scripts/eval_crisis_layers.py [--out docs/crisis-layers.md]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import yaml
from rasa.core.agent import Agent

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.safety import assess

CRISIS_INTENTS = {"express_suicidal_thoughts", "report_danger"}
BATCHES = {
    "fresh (blind, written before round two)": ("crisis", "negatives"),
    "blind 2 (written after round two)": ("blind2", "blind2_negatives"),
}


async def nlu_flags(agent: Agent, texts: list[str]) -> list[bool]:
    flags = []
    for text in texts:
        parsed = await agent.parse_message(text)
        flags.append(parsed["intent"]["name"] in CRISIS_INTENTS)
    return flags


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/sahay.tar.gz")
    parser.add_argument("--out", default="docs/crisis-layers.md")
    args = parser.parse_args()
    agent = Agent.load(args.model)
    rows = []
    for title, (crisis_key, negative_key) in BATCHES.items():
        crisis: list[str] = []
        negatives: list[str] = []
        for path in sorted(Path("tests/safety/fresh").glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            crisis += [item["text"] for item in data.get(crisis_key) or []]
            negatives += [
                item["text"] if isinstance(item, dict) else item
                for item in data.get(negative_key) or []
            ]
        rules = [assess(t).is_crisis for t in crisis]
        nlu = asyncio.run(nlu_flags(agent, crisis))
        either = [a or b for a, b in zip(rules, nlu, strict=True)]
        false_rules = [assess(t).is_crisis for t in negatives]
        false_nlu = asyncio.run(nlu_flags(agent, negatives))
        false_either = [a or b for a, b in zip(false_rules, false_nlu, strict=True)]
        n, m = len(crisis), max(1, len(negatives))
        rows.append(
            f"| {title} | {n} | {sum(rules) / n:.1%} | {sum(nlu) / n:.1%} | "
            f"**{sum(either) / n:.1%}** | {sum(false_either)}/{len(negatives)} "
            f"({sum(false_either) / m:.1%}) |"
        )
    report = "\n".join(
        [
            "# Crisis detection, both layers",
            "",
            "Made by `make eval-crisis-layers`. Every inbound message passes the gateway's",
            "phrase rules first (`bot/safety`); a message they miss still reaches Rasa, whose",
            "crisis intents (`express_suicidal_thoughts`, `report_danger`) run the same crisis",
            "protocol. Scored on the blind batches in `tests/safety/fresh/`, which neither the",
            "rules nor the NLU training data were tuned on.",
            "",
            "| batch | crisis messages | rules | NLU | either | false alarms (either) |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    Path(args.out).write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
