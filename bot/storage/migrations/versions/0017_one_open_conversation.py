"""one open conversation per person and channel, enforced by the database

Two first messages of a new person arriving at two gateway replicas at the same instant
could each open a conversation. A partial unique index makes the second insert fail; the
router then takes the one that won. Older duplicates already in the table are closed first
(closed_reason "superseded"; their messages stay and the person's case history shows them).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "state IN ('bot', 'queued', 'with_counsellor')"


def upgrade() -> None:
    op.execute(
        "UPDATE conversations SET state = 'closed', closed_reason = 'superseded' "
        f"WHERE {OPEN} AND id NOT IN ("
        f"  SELECT max(id) FROM conversations WHERE {OPEN} GROUP BY contact_id, channel"
        ")"
    )
    op.create_index(
        "uq_conversations_one_open",
        "conversations",
        ["contact_id", "channel"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("uq_conversations_one_open", table_name="conversations")
