"""Running a check script under the engine interpreter (CPython 3.10 + rasa 3.6)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import PROJECT_ROOT, get_settings


def run_in_engine(script: Path) -> dict[str, Any]:
    """Run `script` with the engine's Python and return the JSON on its last line."""
    engine_python = get_settings().engine_python
    if not Path(engine_python).exists():
        pytest.fail("the engine environment is missing: run `make setup`")
    completed = subprocess.run(
        [engine_python, str(script)],
        cwd=PROJECT_ROOT,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result
