"""Importing local offices: all rows valid or nothing; look-ups include imports."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main as sahay
from bot.knowledge.service_store import import_services, nearest_services
from bot.storage.db import migrate, session_scope
from bot.storage.models import ServiceEntry

HEADER = (
    "service_type,name,state,district,lgd_district_code,address,phone,hours,"
    "source_url,last_checked\n"
)
GOOD = (
    "dlsa,District Legal Services Authority Murshidabad,West Bengal,Murshidabad,319,"
    '"District Court, Berhampore",03482-250000,10:00-17:00,https://wbslsa.gov.in/,2026-11-25\n'
    "labour_office,Assistant Labour Commissioner Surat,Gujarat,Surat,459,"
    '"Nanpura, Surat",,10:30-18:00,https://labour.gujarat.gov.in/,2026-11-25\n'
)
BAD = "dlsa,Somewhere,Nowhere State,Atlantis,,addr,not-a-phone,,ftp://x,yesterday\n"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "offices.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def count(url: str) -> int:
    with session_scope(url) as session:
        return int(session.scalar(select(func.count()).select_from(ServiceEntry)) or 0)


def test_valid_rows_are_added_then_updated(database_url: str, tmp_path: Path) -> None:
    migrate(database_url)
    with session_scope(database_url) as session:
        first = import_services(session=session, path=write(tmp_path, GOOD))
    assert (first.added, first.updated, first.errors) == (2, 0, ())
    with session_scope(database_url) as session:
        again = import_services(session=session, path=write(tmp_path, GOOD))
    assert (again.added, again.updated) == (0, 2)
    with session_scope(database_url) as session:
        found = nearest_services(
            session=session, service_type="dlsa", district="Murshidabad", state="West Bengal"
        )
    assert found.level == "district"
    assert found.services[0].name == "District Legal Services Authority Murshidabad"


def test_one_bad_row_imports_nothing(database_url: str, tmp_path: Path) -> None:
    migrate(database_url)
    with session_scope(database_url) as session:
        result = import_services(session=session, path=write(tmp_path, GOOD + BAD))
    assert result.errors and {e.row for e in result.errors} == {3}
    assert count(database_url) == 0


def test_the_command_reports_each_bad_row_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.core.config import get_settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert sahay(["services", "import", str(write(tmp_path, BAD + GOOD))]) == 2
        assert "row 1" in capsys.readouterr().err
        assert count(url) == 0
        assert sahay(["services", "import", str(write(tmp_path, GOOD))]) == 0
        assert "2 added" in capsys.readouterr().out
        assert sahay(["services", "list"]) == 0
        assert "Murshidabad" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
