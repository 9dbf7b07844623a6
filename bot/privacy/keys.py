"""Key rotation: re-encrypt every encrypted column under the current data key.

1. Put the new key in SAHAY_ENCRYPTION_KEY and the old one in SAHAY_OLD_ENCRYPTION_KEYS
   (comma-separated, newest first) on every process; restart them. Everything old stays
   readable, everything new is written under the new key.
2. Run `sahay privacy rotate-keys` once: it rewrites each row under the new key.
3. Remove the old key from SAHAY_OLD_ENCRYPTION_KEYS and restart.

The phone-number hash key (SAHAY_PHONE_HASH_KEY) is not rotated this way: it names
people in Rasa's tracker and in every table; changing it means re-keying both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Column, Table, select, update

from bot.core.config import Settings
from bot.storage.crypto import reencrypt
from bot.storage.db import session_scope
from bot.storage.models import Base

BATCH = 500


def encrypted_columns() -> list[tuple[str, str]]:
    """Every encrypted column, as (table, column): by the naming rule `*_encrypted`, so
    that a table added later cannot be forgotten here."""
    import bot.referrals.models  # noqa: F401 - all tables on Base.metadata
    import ivr.models  # noqa: F401

    return [
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_encrypted")
    ]


@dataclass
class Rotation:
    """Rows re-encrypted, by table."""

    rows: dict[str, int] = field(default_factory=dict)


def rotate_keys(*, settings: Settings) -> Rotation:
    """Re-encrypt every encrypted value under SAHAY_ENCRYPTION_KEY.

    Raises:
        ValueError: a value fits none of the keys given (nothing of that batch changes).
    """
    rotation = Rotation()
    for table_name, column_name in encrypted_columns():
        table: Table = Base.metadata.tables[table_name]
        column: Column[bytes] = table.c[column_name]
        last_id = 0
        done = 0
        while True:
            with session_scope(settings.database_url) as session:
                rows = session.execute(
                    select(table.c.id, column)
                    .where(table.c.id > last_id, column.is_not(None))
                    .order_by(table.c.id)
                    .limit(BATCH)
                ).all()
                for row_id, token in rows:
                    fresh = reencrypt(
                        token, key=settings.encryption_key, old_keys=settings.old_encryption_keys
                    )
                    session.execute(
                        update(table).where(table.c.id == row_id).values({column: fresh})
                    )
            if not rows:
                break
            last_id = rows[-1][0]
            done += len(rows)
        rotation.rows[table_name] = rotation.rows.get(table_name, 0) + done
    return rotation
