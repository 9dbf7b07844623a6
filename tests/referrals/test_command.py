"""`python -m bot.referrals followups run` — the cron entry point."""

from __future__ import annotations

import pytest

from bot.core.config import Settings
from bot.referrals.__main__ import main
from bot.referrals.service import create_referral, move_referral
from bot.storage.db import session_scope
from bot.storage.models import Conversation
from tests.referrals.conftest import MORNING, add_person


def test_the_command_sends_what_is_due_and_is_quiet_at_night(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.referrals.followups.notify_rasa", lambda **kwargs: None)
    conversation_id = add_person(settings)
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        referral = create_referral(
            session=session,
            conversation=conversation,
            kind="shelter",
            reason="ask_shelter",
            created_by="bot:test",
            consent_followup=True,
            now=MORNING,
        )
        move_referral(session=session, referral=referral, to_state="sent", actor="bot")
    assert main(["followups", "run", "--now", "2026-12-02T23:30:00+05:30"]) == 0
    assert "nothing sent" in capsys.readouterr().out
    assert main(["followups", "run", "--now", "2026-12-02T10:00:00+05:30"]) == 0
    assert "sent 1," in capsys.readouterr().out
    assert main(["followups", "run", "--now", "2026-12-02T10:05:00+05:30"]) == 0
    assert "sent 0," in capsys.readouterr().out
