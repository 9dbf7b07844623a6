"""Test stories, run by Rasa itself against the trained model (core predictions only)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.core.config import PROJECT_ROOT, get_settings


def test_stories_predict_every_action(tmp_path: Path) -> None:
    engine_python = get_settings().engine_python
    model = PROJECT_ROOT / "models" / "sahay.tar.gz"
    if not model.exists():
        pytest.fail("no trained model: run the tests through `make test`, which trains it")
    completed = subprocess.run(
        [
            engine_python,
            "-m",
            "rasa",
            "test",
            "core",
            "--model",
            str(model),
            "--stories",
            str(PROJECT_ROOT / "tests" / "stories"),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=PROJECT_ROOT,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else completed.stderr[-3000:]
    assert completed.returncode == 0, details
