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


def test_a_counsellors_phone_is_kept_encrypted_and_shown_by_its_last_digits(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography.fernet import Fernet

    from bot.console.phones import counsellor_phone

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("SAHAY_ENCRYPTION_KEY", key)
    assert main(["counsellors", "add", "asha", "--phone", "+91 98123-00001"]) == 0
    with session_scope(database) as session:
        asha = session.scalars(select(Counsellor)).one()
        assert asha.phone_encrypted and b"9812300001" not in asha.phone_encrypted
        assert counsellor_phone(asha, key=key) == "+919812300001"
    assert main(["counsellors", "list"]) == 0
    listing = capsys.readouterr().out
    assert "…0001" in listing and "9812300001" not in listing

    assert main(["counsellors", "phone", "asha", "--number", "+919812300002"]) == 0
    assert "…0002" in capsys.readouterr().out
    with session_scope(database) as session:
        asha = session.scalars(select(Counsellor)).one()
        assert counsellor_phone(asha, key=key) == "+919812300002"

    with pytest.raises(SystemExit):  # argparse: not a number with its country code
        main(["counsellors", "phone", "asha", "--number", "98123"])
    assert "country code" in capsys.readouterr().err

    assert main(["counsellors", "phone", "asha", "--clear"]) == 0
    with session_scope(database) as session:
        assert session.scalars(select(Counsellor)).one().phone_encrypted is None
    assert main(["counsellors", "phone", "nobody", "--clear"]) == 2
