"""referrals, their events and follow-ups, consent to share records

Revision ID: 0008
Revises: 0009 (the newest when written; see the lead's note)
Create Date: 2026-11-26 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("service_type", sa.String(length=24), nullable=False),
        sa.Column("service", sa.String(length=256), nullable=False),
        sa.Column("service_address", sa.String(length=512), nullable=True),
        sa.Column("service_phone", sa.String(length=64), nullable=True),
        sa.Column("service_level", sa.String(length=16), nullable=False),
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("region_state", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("consent_followup", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_referrals_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_referrals_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("code", name=op.f("uq_referrals_code")),
    )
    op.create_index(op.f("ix_referrals_contact_id"), "referrals", ["contact_id"])
    op.create_index(op.f("ix_referrals_conversation_id"), "referrals", ["conversation_id"])
    op.create_index("ix_referrals_state_kind", "referrals", ["state", "kind"])

    op.create_table(
        "referral_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=256), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_events_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_events")),
    )
    op.create_index(op.f("ix_referral_events_referral_id"), "referral_events", ["referral_id"])

    op.create_table(
        "referral_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_as", sa.String(length=16), nullable=True),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_referral_followups_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_followups")),
    )
    op.create_index(
        op.f("ix_referral_followups_referral_id"), "referral_followups", ["referral_id"]
    )
    op.create_index(
        "ix_referral_followups_status_due_at", "referral_followups", ["status", "due_at"]
    )

    op.create_table(
        "record_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("recipient", sa.String(length=256), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_record_consents_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_consents")),
    )
    op.create_index(op.f("ix_record_consents_contact_id"), "record_consents", ["contact_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_record_consents_contact_id"), table_name="record_consents")
    op.drop_table("record_consents")
    op.drop_index("ix_referral_followups_status_due_at", table_name="referral_followups")
    op.drop_index(op.f("ix_referral_followups_referral_id"), table_name="referral_followups")
    op.drop_table("referral_followups")
    op.drop_index(op.f("ix_referral_events_referral_id"), table_name="referral_events")
    op.drop_table("referral_events")
    op.drop_index("ix_referrals_state_kind", table_name="referrals")
    op.drop_index(op.f("ix_referrals_conversation_id"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_contact_id"), table_name="referrals")
    op.drop_table("referrals")
