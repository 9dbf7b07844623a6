"""`python -m bot.cli counsellors …`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.console.security import verify_password
from bot.core.config import PROJECT_ROOT
from bot.storage.db import session_scope
from bot.storage.models import Counsellor

pytestmark = pytest.mark.usefixtures("clean_env")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'sahay.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SAHAY_ENV", "test")
    monkeypatch.setenv("SAHAY_NEW_PASSWORD", "a long enough password")
    return url


def test_add_and_list(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "counsellors",
                "add",
                "asha",
                "--name",
                "Asha Das",
                "--role",
                "counsellor",
                "--languages",
                "bn,hi",
            ]
        )
        == 0
    )
    with session_scope(database) as session:
        asha = session.scalars(select(Counsellor)).one()
        assert (asha.display_name, asha.role, asha.languages) == (
            "Asha Das",
            "counsellor",
            ["bn", "hi"],
        )
        assert asha.password_hash.startswith("$argon2id$")
        assert verify_password(asha.password_hash, "a long enough password")
    assert main(["counsellors", "list"]) == 0
    listing = capsys.readouterr().out
    assert "asha" in listing and "bn,hi" in listing and "active" in listing


def test_mistakes_are_explained(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["counsellors", "add", "asha", "--languages", "bn"]) == 0
    assert main(["counsellors", "add", "asha", "--languages", "bn"]) == 2
    assert "exists already" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["counsellors", "add", "ravi", "--languages", "xx"])
    monkeypatch.setenv("SAHAY_NEW_PASSWORD", "short")
    assert main(["counsellors", "add", "ravi"]) == 2
    assert "at least" in capsys.readouterr().err


def test_unlock_and_deactivate(database: str) -> None:
    main(["counsellors", "add", "asha", "--languages", "bn"])
    with session_scope(database) as session:
        asha = session.scalars(select(Counsellor)).one()
        asha.failed_logins = 5
    assert main(["counsellors", "unlock", "asha"]) == 0
    assert main(["counsellors", "deactivate", "asha"]) == 0
    with session_scope(database) as session:
        asha = session.scalars(select(Counsellor)).one()
        assert asha.failed_logins == 0 and not asha.active
    assert main(["counsellors", "unlock", "nobody"]) == 2


def test_runs_as_a_module(database: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "counsellors", "list"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("username")
