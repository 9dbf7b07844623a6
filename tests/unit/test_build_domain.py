"""The assembled domain carries every language's replies as conditional variations."""

from __future__ import annotations

from pathlib import Path

import yaml

from scripts.build_domain import build


def test_each_language_becomes_a_condition_and_english_the_default(tmp_path: Path) -> None:
    src = tmp_path / "domain"
    (src / "responses").mkdir(parents=True)
    (src / "_shared.yml").write_text('version: "3.1"\nintents: [greet]\n')
    (src / "responses" / "en.yml").write_text(
        'version: "3.1"\nresponses:\n  utter_greet:\n    - text: "Hello"\n'
    )
    (src / "responses" / "hi.yml").write_text(
        'version: "3.1"\nresponses:\n  utter_greet:\n    - text: "नमस्ते"\n'
    )
    build(src, tmp_path / "out")

    assert (tmp_path / "out" / "_shared.yml").exists()
    merged = yaml.safe_load((tmp_path / "out" / "responses.yml").read_text())
    variations = merged["responses"]["utter_greet"]
    by_language = {v["condition"][0]["value"]: v["text"] for v in variations if "condition" in v}
    assert by_language == {"en": "Hello", "hi": "नमस्ते"}
    assert [v["text"] for v in variations if "condition" not in v] == ["Hello"]


def test_menu_buttons_go_on_written_replies_and_never_on_a_callers(tmp_path: Path) -> None:
    """The project's own domain: a caller hears a menu's voice variation, with no buttons."""
    from bot.core.config import PROJECT_ROOT

    build(PROJECT_ROOT / "domain", tmp_path / "out")
    merged = yaml.safe_load((tmp_path / "out" / "responses.yml").read_text())["responses"]
    menus = yaml.safe_load((PROJECT_ROOT / "domain" / "menus.yml").read_text())["menus"]
    for name in ("utter_screening_offer", "utter_confirm_delete"):
        assert name in menus
        for variation in merged[name]:
            spoken = {"name": "voice_call", "type": "slot", "value": True} in variation.get(
                "condition", []
            )
            buttons = [b["payload"] for b in variation.get("buttons", [])]
            assert buttons == ([] if spoken else menus[name]), (name, variation)
        assert any("condition" in v and "buttons" not in v for v in merged[name])
