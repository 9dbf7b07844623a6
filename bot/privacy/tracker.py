"""Rasa's tracker store, read and pruned from the app side.

Rasa keeps one row per event in its `events` table, keyed by `sender_id`: for Sahay that
is always the keyed hash of the person's number (never the number itself). Erasing a
person therefore means deleting their rows there as well as in the app database.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy import Engine, MetaData, Table, create_engine, delete, func, inspect, select

from bot.core.addresses import for_app

SENDER_KEY = re.compile(r"^[0-9a-f]{64}$")


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    return create_engine(for_app(url), pool_pre_ping=True)


def _events(engine: Engine) -> Table | None:
    if not inspect(engine).has_table("events"):
        return None  # Rasa has not started on this store yet
    return Table("events", MetaData(), autoload_with=engine)


def erase_sender(*, tracker_url: str, sender_key: str) -> int:
    """Delete every event Rasa stored for `sender_key`; returns how many went."""
    engine = _engine(tracker_url)
    events = _events(engine)
    if events is None:
        return 0
    with engine.begin() as connection:
        result = connection.execute(delete(events).where(events.c.sender_id == sender_key))
    return int(result.rowcount or 0)


def count_events(*, tracker_url: str, sender_key: str) -> int:
    """How many events Rasa holds for `sender_key`."""
    engine = _engine(tracker_url)
    events = _events(engine)
    if events is None:
        return 0
    with engine.connect() as connection:
        return int(
            connection.scalar(
                select(func.count()).select_from(events).where(events.c.sender_id == sender_key)
            )
            or 0
        )


def erase_orphans(*, tracker_url: str, known_keys: set[str]) -> int:
    """Delete the events of pseudonymous senders the app no longer knows (erased, or
    removed by retention), in case an erasure could not reach the tracker store then."""
    engine = _engine(tracker_url)
    events = _events(engine)
    if events is None:
        return 0
    with engine.connect() as connection:
        senders = set(connection.scalars(select(events.c.sender_id).distinct()))
    orphans = [s for s in senders if SENDER_KEY.match(s) and s not in known_keys]
    erased = 0
    with engine.begin() as connection:
        for start in range(0, len(orphans), 500):
            chunk = orphans[start : start + 500]
            result = connection.execute(delete(events).where(events.c.sender_id.in_(chunk)))
            erased += int(result.rowcount or 0)
    return erased
