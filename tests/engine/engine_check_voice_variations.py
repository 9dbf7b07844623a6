"""Run inside the engine environment (Python 3.10, rasa 3.6) by test_voice_variations.py.

Assembles the domain as `make domain` does, loads it with Rasa's own Domain, and asks
Rasa's own response selection (TemplatedNaturalLanguageGenerator, REST output channel
`collector`) for every reply in every language, on a call and in a chat, many times over
(Rasa picks at random among matching variations). Prints JSON: what was checked and any
reply whose text was not the one expected.
"""

import json
import tempfile
from pathlib import Path

import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain

from scripts.build_domain import build

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("en", "hi", "bn", "or", "as", "mr", "gu", "pa", "ta", "te", "kn", "ml")
DRAWS = 8


def texts(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {name: v[0]["text"] for name, v in (data.get("responses") or {}).items()}


def main() -> None:
    with tempfile.TemporaryDirectory() as out:
        build(ROOT / "domain", Path(out))
        domain = Domain.load(out)
    generator = TemplatedNaturalLanguageGenerator(domain.responses)
    slot = next(s for s in domain.slots if s.name == "voice_call")
    wrong = []
    checked = 0
    for language in LANGUAGES:
        voice = texts(ROOT / "domain" / "responses" / "voice" / f"{language}.yml")
        written = texts(ROOT / "domain" / "responses" / f"{language}.yml")
        for name in sorted(set(voice) | set(written)):
            for on_call in (True, False):
                expected = voice.get(name) if on_call else written.get(name)
                if expected is None:
                    expected = written.get(name) or voice[name]
                    if not on_call:
                        continue  # a feature-file reply (language menu): no written text here
                slots = {"language": language, "voice_call": on_call}
                for _ in range(DRAWS):
                    reply = generator.generate_from_slots(name, slots, "collector")
                    checked += 1
                    if reply is None or reply.get("text") != expected:
                        got = reply.get("text") if reply else None
                        wrong.append([language, name, on_call, got])
                        break
    print(
        json.dumps(
            {
                "checked": checked,
                "wrong": wrong,
                "slot": [type(slot).__name__, slot.initial_value, slot.influence_conversation],
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
