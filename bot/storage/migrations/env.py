"""Alembic environment: runs migrations on the engine `bot.storage.db.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import bot.referrals.models  # noqa: F401 - registers the referral tables on Base
import ivr.models  # noqa: F401 - registers the IVR's tables on Base
from bot.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or create_engine(
        config.get_main_option("sqlalchemy.url") or ""
    )
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together migrate one after the other, not over each other.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7242001)")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations_online()
