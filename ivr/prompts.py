"""Recorded prompts for languages Twilio cannot speak (Odia, Assamese), and voicing.

`python -m ivr.prompts build` records every keyed text a call can speak with espeak-ng
into `ivr/prompts/<lang>/<key>.wav`, with a `manifest.json` of the texts' hashes. At call
time a prompt is played only when its hash matches today's text, so an edited line is
never read from a stale recording; a missing prompt falls back to English `<Say>`, and
menus stay keypad-only for these languages in any case.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from ivr.config import PROMPTS_DIR
from ivr.speech import Utterance, prompt_keys, spoken_text
from ivr.twiml import Spoken
from ivr.voices import FALLBACK_LANGUAGE, VOICES, voice_for

PROMPTS_URL = "/ivr/prompts"
MANIFEST = "manifest.json"
ESPEAK = "espeak-ng"
ESPEAK_SPEED = 140  # words per minute: slower than espeak's 175, for a phone line


def text_hash(text: str) -> str:
    """The short hash that ties a recording to the text it says."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=64)
def _manifest(path: Path, _mtime: float) -> dict[str, str]:
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def manifest(root: Path, language: str) -> dict[str, str]:
    """Key -> text hash of the prompts recorded for `language` (empty when none)."""
    path = root / language / MANIFEST
    if not path.exists():
        return {}
    return _manifest(path, path.stat().st_mtime)


def prompt_file(root: Path, language: str, key: str) -> Path:
    """Where the recording of `key` in `language` lives."""
    return root / language / f"{key}.wav"


def has_fresh_prompt(root: Path, utterance: Utterance) -> bool:
    """Whether a recording of exactly this utterance's current text exists."""
    if utterance.key is None:
        return False
    recorded = manifest(root, utterance.language).get(utterance.key)
    return (
        recorded == text_hash(utterance.text)
        and prompt_file(root, utterance.language, utterance.key).exists()
    )


def voiced(utterances: Sequence[Utterance], *, prompts_dir: Path) -> list[Spoken]:
    """Turn utterances into audio: a Twilio voice, a recorded prompt, or English."""
    spoken = []
    english = VOICES[FALLBACK_LANGUAGE]
    for utterance in utterances:
        voice = voice_for(utterance.language)
        if voice.speaks:
            spoken.append(Spoken(utterance.text, voice.say_voice, voice.say_locale))
        elif has_fresh_prompt(prompts_dir, utterance):
            url = f"{PROMPTS_URL}/{utterance.language}/{utterance.key}.wav"
            spoken.append(Spoken(utterance.text, audio_url=url))
        else:
            spoken.append(Spoken(utterance.fallback_text, english.say_voice, english.say_locale))
    return spoken


def languages_needing_prompts() -> list[str]:
    """Languages Twilio has no voice for."""
    return [code for code, voice in VOICES.items() if not voice.speaks]


def build(root: Path = PROMPTS_DIR, languages: Sequence[str] | None = None) -> int:
    """Record every prompt of `languages` (default: those without a Twilio voice).

    Returns:
        How many files were written (unchanged texts are not recorded again).

    Raises:
        FileNotFoundError: espeak-ng is not installed (Debian package `espeak-ng`).
    """
    espeak = shutil.which(ESPEAK)
    if espeak is None:
        raise FileNotFoundError("espeak-ng is not installed: apt-get install espeak-ng")
    written = 0
    for language in languages or languages_needing_prompts():
        voice = VOICES[language].espeak_voice or language
        folder = root / language
        folder.mkdir(parents=True, exist_ok=True)
        old = manifest(root, language)
        new: dict[str, str] = {}
        for key in prompt_keys(language):
            text = spoken_text(key, language)
            digest = text_hash(text)
            target = prompt_file(root, language, key)
            if old.get(key) != digest or not target.exists():
                subprocess.run(
                    [espeak, "-v", voice, "-s", str(ESPEAK_SPEED), "-w", str(target), text],
                    check=True,
                    capture_output=True,
                    timeout=60,
                )
                written += 1
            new[key] = digest
        (folder / MANIFEST).write_text(json.dumps(new, indent=1, sort_keys=True), "utf-8")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m ivr.prompts build [--out DIR] [--language or --language as]`."""
    parser = argparse.ArgumentParser(prog="python -m ivr.prompts")
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help="record the prompts with espeak-ng")
    build_command.add_argument("--out", type=Path, default=PROMPTS_DIR)
    build_command.add_argument("--language", action="append", choices=sorted(VOICES))
    args = parser.parse_args(argv)
    try:
        written = build(args.out, args.language)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"recorded {written} prompt(s) into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
