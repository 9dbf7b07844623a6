"""Engines and sessions, made on first use (never at import), and schema migration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from bot.core.addresses import for_app

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """The engine for a database address, shared by everything in the process."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # 'postgresql://' (as Rasa's side writes it) means psycopg 3 here.
    return create_engine(for_app(url), pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the gateway and the action server (two processes) write the same file.
    # NORMAL syncs the log at checkpoints instead of at every commit: still safe from
    # corruption and durable when a process crashes; a power cut may undo the last
    # commits. It halves the gateway's own time per message (`make bench`).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@lru_cache(maxsize=8)
def _session_factory(url: str) -> sessionmaker[Session]:
    from bot.core.changes import watch  # imports the models, which import nothing from here

    factory = sessionmaker(get_engine(url), expire_on_commit=False)
    watch(factory)
    return factory


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits when the block ends well and rolls back otherwise."""
    session = _session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to the newest schema (or to `revision`)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["engine"] = get_engine(url)
    command.upgrade(config, revision)
