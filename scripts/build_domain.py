"""Assemble the Rasa domain that training uses from the per-language reply files.

Rasa merges domain files shallowly: the same response in two files keeps only one file's
variations. So replies are written per language (`domain/responses/<lang>.yml`, plain
text variations) and this script writes `build/domain/`: the feature files as they are,
plus one `responses.yml` in which each language's variations carry the condition
`language == <lang>` and the English ones also serve as the default.

Phone calls hear voice variations, written per language in
`domain/responses/voice/<lang>.yml` (short, no emoji, links or markup, numbers digit by
digit). Rasa 3.6 picks *at random* among all conditional variations whose conditions
match (`ResponseVariationFilter.responses_for_utter_action`, then `np.random.choice`),
and its REST channel is named `collector`, so neither order nor `channel:` can separate
them. Both kinds therefore carry the `voice_call` slot (set from the message's `channel`
metadata by `action_sync_context`): a voice variation `[language == <lang>,
voice_call == true]`, the written one of the same response `[language == <lang>,
voice_call == false]`. Responses without voice variations keep `[language == <lang>]`.
A response with voice variations must have them in every language it is written in
(else a caller in the missing language would hear the English default), and a voice
variation must name a response that exists.

Usage: python scripts/build_domain.py [--src domain] [--out build/domain]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

import yaml

DEFAULT_LANGUAGE = "en"
VOICE_DIR = "voice"
VOICE_SLOT = "voice_call"


class DomainError(ValueError):
    """The reply files cannot be assembled into a consistent domain."""


def _condition(language: str | None, *, voice: bool | None) -> list[dict[str, Any]]:
    condition: list[dict[str, Any]] = []
    if language is not None:
        condition.append({"type": "slot", "name": "language", "value": language})
    if voice is not None:
        condition.append({"type": "slot", "name": VOICE_SLOT, "value": voice})
    return condition


def load_voice(responses_dir: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Voice variations by response name and language (`responses/voice/<lang>.yml`)."""
    voice: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for path in sorted((responses_dir / VOICE_DIR).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (data.get("responses") or {}).items():
            voice.setdefault(name, {})[path.stem] = [dict(v) for v in variations]
    return voice


def load_menus(src: Path) -> dict[str, list[str]]:
    """The numbered choices each menu response offers (domain/menus.yml)."""
    path = src / "menus.yml"
    if not path.exists():
        return {}
    return dict((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("menus") or {})


def with_buttons(variation: dict[str, Any], payloads: list[str] | None) -> dict[str, Any]:
    """The variation with its menu's payloads as buttons titled by number."""
    if not payloads:
        return variation
    buttons = [{"title": str(n), "payload": p} for n, p in enumerate(payloads, start=1)]
    return {**variation, "buttons": buttons}


def merged_responses(
    responses_dir: Path,
    menus: dict[str, list[str]] | None = None,
    voice: dict[str, dict[str, list[dict[str, Any]]]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Every response with one conditional variation list per language, and the default.

    Voice variations (`voice`, by name and language) come first, then the written ones.

    Raises:
        DomainError: a response with voice variations lacks them in a language it is
            written in.
    """
    menus = menus or {}
    voice = voice or {}
    written: dict[str, list[dict[str, Any]]] = {}
    languages: dict[str, set[str]] = {}
    for path in sorted(responses_dir.glob("*.yml")):
        language = path.stem
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (data.get("responses") or {}).items():
            languages.setdefault(name, set()).add(language)
            spoken = True if name in voice else None
            for plain in variations:
                variation = with_buttons(plain, menus.get(name))
                conditioned = dict(variation)
                conditioned["condition"] = _condition(
                    language, voice=None if spoken is None else False
                )
                written.setdefault(name, []).append(conditioned)
                if language == DEFAULT_LANGUAGE:
                    written[name].append(dict(variation))
    merged: dict[str, list[dict[str, Any]]] = {}
    for name, by_language in voice.items():
        missing = sorted(languages.get(name, set()) - set(by_language))
        if missing:
            raise DomainError(f"{name}: no voice variation in {', '.join(missing)}")
        merged[name] = [
            {**variation, "condition": _condition(language, voice=True)}
            for language in sorted(by_language)
            for variation in by_language[language]
        ]
    for name, variations in written.items():
        merged[name] = merged.get(name, []) + variations
    return merged


def build(src: Path, out: Path) -> None:
    """Write the assembled domain folder.

    A feature file's response that has voice variations (the language menu, written in
    every script at once) moves to `responses.yml`: its variations stay the default,
    after the voice ones.

    Raises:
        DomainError: see `merged_responses`; or a voice variation names no response.
    """
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    menus = load_menus(src)
    voice = load_voice(src / "responses")
    moved: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(src.glob("*.yml")):
        if path.name == "menus.yml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        responses = data.get("responses") or {}
        for name, variations in list(responses.items()):
            variations = [with_buttons(v, menus.get(name)) for v in variations]
            if name in voice:
                moved[name] = variations
                del responses[name]
            else:
                responses[name] = variations
        if "responses" in data and not responses:
            del data["responses"]
        (out / path.name).write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000),
            encoding="utf-8",
        )
    merged = merged_responses(src / "responses", menus, voice)
    for name, variations in moved.items():
        merged[name] = [
            {**variation, "condition": _condition(language, voice=True)}
            for language in sorted(voice[name])
            for variation in voice[name][language]
        ] + variations
    unknown = sorted(name for name in voice if name not in merged or not _written(merged[name]))
    if unknown:
        raise DomainError(f"voice variations for responses that do not exist: {unknown}")
    document = {"version": "3.1", "responses": merged}
    (out / "responses.yml").write_text(
        "# Generated by scripts/build_domain.py from domain/responses/; do not edit.\n"
        + yaml.safe_dump(document, allow_unicode=True, sort_keys=True, width=1000),
        encoding="utf-8",
    )


def _written(variations: list[dict[str, Any]]) -> bool:
    """Whether any variation is a written (not voice-only) one."""
    return any(
        not any(
            c.get("name") == VOICE_SLOT and c.get("value") is True for c in v.get("condition", [])
        )
        for v in variations
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("domain"))
    parser.add_argument("--out", type=Path, default=Path("build/domain"))
    args = parser.parse_args()
    try:
        build(args.src, args.out)
    except DomainError as error:
        raise SystemExit(f"build_domain: {error}") from error


if __name__ == "__main__":
    main()
