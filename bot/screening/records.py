"""Keeping screening results the person agreed to keep (chat and phone alike)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from bot.storage.crypto import encrypt
from bot.storage.models import ScreeningRecord


def add_results(
    *,
    session: Session,
    conversation_id: int,
    results: list[dict[str, Any]],
    language: str | None,
    encryption_key: str,
) -> None:
    """Add completed instruments to a conversation, answers encrypted."""
    for result in results:
        session.add(
            ScreeningRecord(
                conversation_id=conversation_id,
                instrument=result["instrument"],
                answers_encrypted=encrypt(json.dumps(result["answers"]), key=encryption_key),
                total=result["total"],
                band=result["band"],
                positive=result["positive"],
                flags=list(result["flags"]),
                language=language,
            )
        )
