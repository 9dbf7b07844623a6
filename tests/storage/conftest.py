"""Databases for the storage tests: a SQLite file, and a fresh database on the
PostgreSQL server of this machine (SAHAY_TEST_POSTGRES_URL, default 127.0.0.1:5432)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_postgres_databases


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sahay.db'}"
        return
    with fresh_postgres_databases("sahay_test") as (url,):
        yield url
