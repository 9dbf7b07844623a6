"""The audit trail: who saw or did what to which case, when."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.storage.models import AuditEntry


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    target_type: str = "handoff",
    target_id: int | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Add one audit entry to the session (committed with whatever it records).

    `detail` says which option was taken (an outcome, a message id), never what a person
    or counsellor wrote.
    """
    entry = AuditEntry(
        actor=actor[:64],
        action=action[:64],
        target_type=target_type[:32],
        target_id=target_id,
        detail=detail[:512] if detail else None,
    )
    session.add(entry)
    return entry
