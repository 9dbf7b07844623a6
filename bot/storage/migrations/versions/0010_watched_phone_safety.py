"""safety for a watched phone: exit word, discreet mode, consent per purpose, abuse flag

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-25 17:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("safe_word_key", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("discreet", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("safe_hours", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("channels_apart", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("abusive_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("abusive_by", sa.String(length=64), nullable=True))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("closed_reason", sa.String(length=32), nullable=True))
    op.create_table(
        "contact_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_consents_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_consents")),
    )
    op.create_index(
        "ix_contact_consents_contact_purpose",
        "contact_consents",
        ["contact_id", "purpose"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_contact_consents_contact_purpose", table_name="contact_consents")
    op.drop_table("contact_consents")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("closed_reason")
        batch_op.drop_column("awaiting")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("abusive_by")
        batch_op.drop_column("abusive_at")
        batch_op.drop_column("channels_apart")
        batch_op.drop_column("safe_hours")
        batch_op.drop_column("discreet")
        batch_op.drop_column("safe_word_key")
