"""Privacy: erasure everywhere (raw tables), retention, export, append-only audit log,
key rotation — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import LargeBinary, create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from actions.store import erase_contact
from bot.cli import main as sahay
from bot.core.config import PROJECT_ROOT, Settings, get_settings
from bot.handoff.service import request_handoff
from bot.privacy import tracker
from bot.privacy.erasure import erase_everywhere
from bot.privacy.export import NotFound, export_person
from bot.privacy.keys import encrypted_columns, rotate_keys
from bot.privacy.retention import run_retention
from bot.rasa_client import BotReply
from bot.referrals.models import FollowUp, RecordConsent, Referral, ReferralEvent
from bot.responses import get_catalogue
from bot.routing.service import InboundMessage, handle_inbound
from bot.storage.crypto import decrypt, encrypt, phone_key
from bot.storage.db import get_engine, migrate, session_scope
from bot.storage.models import (
    AuditEntry,
    Base,
    BotSession,
    CaseNote,
    Contact,
    Conversation,
    Message,
    ScreeningRecord,
    utcnow,
)
from ivr.models import IvrCall
from tests.conftest import make_settings
from tests.gateway.conftest import RecordingRasa

PERSON = "+919812300011"
OTHER = "+919812300022"

# Rasa's own events table (rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent).
RASA_EVENTS = """CREATE TABLE events (
    id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


def settings_for(tmp_path: Path, url: str, **extra: str) -> Settings:
    return make_settings(
        tmp_path, DATABASE_URL=url, TRACKER_URL=f"sqlite:///{tmp_path / 'tracker.db'}", **extra
    )


def add_tracker_events(settings: Settings, sender: str, count: int = 3) -> None:
    engine = create_engine(settings.tracker_url)
    with engine.begin() as connection:
        if not inspect(connection).has_table("events"):
            connection.execute(text(RASA_EVENTS))
        for i in range(count):
            connection.execute(
                text("INSERT INTO events (sender_id, type_name, data) VALUES (:s, 'user', :d)"),
                {"s": sender, "d": json.dumps({"text": f"secret {i}"})},
            )
    engine.dispose()


def populate(settings: Settings, phone: str, *, closed_days_ago: float | None = None) -> str:
    """A person with a bit of everything the app keeps; returns their key."""
    key = phone_key(phone, secret=settings.phone_hash_key)
    data_key = settings.encryption_key
    with session_scope(settings.database_url) as session:
        contact = Contact(phone_key=key, phone_encrypted=encrypt(phone, key=data_key))
        conversation = Conversation(contact=contact, channel="whatsapp", language="hi")
        if closed_days_ago is not None:
            closed_at = utcnow() - dt.timedelta(days=closed_days_ago)
            conversation.state, conversation.closed_at = "closed", closed_at
        session.add(conversation)
        session.flush()
        for direction, body in (("in", f"my story {phone}"), ("out", "we are here")):
            session.add(
                Message(
                    conversation_id=conversation.id,
                    direction=direction,
                    author="person" if direction == "in" else "bot",
                    body_encrypted=encrypt(body, key=data_key),
                )
            )
        if closed_days_ago is None:
            request_handoff(
                session=session,
                conversation=conversation,
                priority="normal",
                reason="request_human",
                actor="test",
            )
        session.add(
            CaseNote(conversation_id=conversation.id, body_encrypted=encrypt("note", key=data_key))
        )
        session.add(
            ScreeningRecord(
                conversation_id=conversation.id,
                instrument="phq4",
                answers_encrypted=encrypt("[1,2,1,0]", key=data_key),
                total=4,
                band="mild",
                positive=False,
                flags=[],
            )
        )
        referral = Referral(
            code=f"R{key[:8]}",
            contact=contact,
            conversation_id=conversation.id,
            kind="legal_aid",
            service_type="legal_aid",
            service="DLSA",
            service_level="district",
            reason="ask_legal_aid",
            created_by="test",
        )
        referral.events.append(ReferralEvent(to_state="created", actor="test"))
        referral.followups.append(FollowUp(purpose="reached", due_at=utcnow()))
        session.add(referral)
        session.flush()
        session.add(RecordConsent(contact_id=contact.id, scopes=["referrals"], recorded_by="test"))
        session.add(BotSession(sender_key=key, channel="whatsapp", language="hi"))
        session.add(IvrCall(call_sid=f"CA{key[:30]}", caller_key=key))
    add_tracker_events(settings, key)
    return key


def raw_dump(url: str) -> dict[str, list[str]]:
    """Every row of every table, as text: what a raw look at the database shows."""
    engine = get_engine(url)
    dump: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            dump[table] = [repr(tuple(row)) for row in rows]
    return dump


def person_traces(settings: Settings, url: str, key: str, ids: set[int]) -> list[str]:
    """Rows that still point at the person: their key, or their contact's id in a
    contact_id column (read raw, table by table)."""
    found = []
    engine = get_engine(url)
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            columns = {c["name"] for c in inspect(connection).get_columns(table)}
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                values = " ".join(str(v) for v in row.values())
                if key in values or ("contact_id" in columns and row["contact_id"] in ids):
                    found.append(f"{table}: {dict(row)}")
    return found


def test_erasure_removes_the_person_from_every_table_and_the_tracker(
    tmp_path: Path, database_url: str
) -> None:
    migrate(database_url)
    settings = settings_for(tmp_path, database_url)
    key = populate(settings, PERSON)
    other = populate(settings, OTHER)
    with session_scope(database_url) as session:
        contact_ids = {c.id for c in session.query(Contact).filter(Contact.phone_key == key)}
    before = raw_dump(database_url)

    erasure = erase_everywhere(settings=settings, phone_key=key, actor="test")

    assert erasure.contact and erasure.conversations == 1 and erasure.tracker_events == 3
    assert person_traces(settings, database_url, key, contact_ids) == []
    after = raw_dump(database_url)
    for table in ("messages", "conversations", "case_notes", "screening_results", "referrals"):
        assert len(after[table]) == len(before[table]) // 2, table  # the other person's stay
    assert tracker.count_events(tracker_url=settings.tracker_url, sender_key=key) == 0
    assert tracker.count_events(tracker_url=settings.tracker_url, sender_key=other) == 3
    # The audit log says an erasure happened, and nothing of what was erased.
    assert any("erase_person" in row for row in after["audit_log"])


def test_delete_my_data_in_a_turn_erases_app_rows_and_tracker_events(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> None:
    migrate(database_url)
    settings = settings_for(tmp_path, database_url)
    # The action server reads its settings from the environment.
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    key = phone_key(PERSON, secret=settings.phone_hash_key)

    class ErasingRasa(RecordingRasa):
        """Rasa running action_erase_my_data, and saving the turn's events before answering."""

        def send(self, *, sender, text, metadata):  # type: ignore[no-untyped-def]
            add_tracker_events(settings, sender, count=5)
            if text == "yes":
                erase_contact(sender_key=sender)
                return [BotReply("Your data has been deleted.")]
            return [BotReply("Do you want me to delete everything?")]

    rasa = ErasingRasa()
    catalogue = get_catalogue()
    for sid, words in (("SM1", "delete my data please"), ("SM2", "yes")):
        result = handle_inbound(
            settings=settings,
            rasa=rasa,
            catalogue=catalogue,
            inbound=InboundMessage("whatsapp", f"whatsapp:{PERSON}", words, sid),
        )
    assert [r.text for r in result.replies] == ["Your data has been deleted."]
    assert person_traces(settings, database_url, key, set()) == []
    dump = raw_dump(database_url)
    assert dump["messages"] == [] and dump["contacts"] == []
    assert tracker.count_events(tracker_url=settings.tracker_url, sender_key=key) == 0


def test_retention_removes_old_closed_conversations_only(tmp_path: Path, database_url: str) -> None:
    migrate(database_url)
    settings = settings_for(tmp_path, database_url, SAHAY_RETENTION_DAYS="30")
    old = populate(settings, PERSON, closed_days_ago=45)
    recent = populate(settings, OTHER, closed_days_ago=5)
    add_tracker_events(settings, "e" * 64)  # an erasure that never reached the tracker
    with session_scope(database_url) as session:
        session.execute(
            text("UPDATE contacts SET created_at = :t"), {"t": utcnow() - dt.timedelta(days=60)}
        )
        # The old person's referral is over: nothing keeps them.
        session.execute(text("DELETE FROM referrals WHERE code = :c"), {"c": f"R{old[:8]}"})

    report = run_retention(settings=settings)

    assert report.conversations == 1 and report.people == 1
    assert report.tracker_events == 3 + 3  # the old person's and the orphan's
    assert person_traces(settings, database_url, old, set()) == []
    with session_scope(database_url) as session:
        assert [c.phone_key for c in session.query(Contact)] == [recent]
    assert tracker.count_events(tracker_url=settings.tracker_url, sender_key=recent) == 3
    assert run_retention(settings=settings).conversations == 0


def test_export_holds_the_persons_data_decrypted(tmp_path: Path, database_url: str) -> None:
    migrate(database_url)
    settings = settings_for(tmp_path, database_url)
    populate(settings, PERSON)
    populate(settings, OTHER)
    document = export_person(settings=settings, phone=f"whatsapp:{PERSON}", actor="test")
    assert document["phone"] == PERSON
    [conversation] = document["conversations"]
    assert [m["text"] for m in conversation["messages"]] == [f"my story {PERSON}", "we are here"]
    assert conversation["counsellor_notes"][0]["text"] == "note"
    assert document["referrals"][0]["service"] == "DLSA"
    assert document["bot_memory_events"] == 3
    assert OTHER not in json.dumps(document)
    with pytest.raises(NotFound):
        export_person(settings=settings, phone="+910000000000", actor="test")
    with session_scope(database_url) as session:
        assert session.query(AuditEntry).filter(AuditEntry.action == "export_person").count() == 1


def test_the_command_line_exports_and_erases(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate(url)
    settings = settings_for(tmp_path, url)
    for name, value in (
        ("DATABASE_URL", url),
        ("TRACKER_URL", settings.tracker_url),
        ("SAHAY_PHONE_HASH_KEY", settings.phone_hash_key),
        ("SAHAY_ENCRYPTION_KEY", settings.encryption_key),
    ):
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    populate(settings, PERSON)
    out = tmp_path / "export.json"
    assert sahay(["privacy", "export", PERSON, "--out", str(out)]) == 0
    assert json.loads(out.read_text())["phone"] == PERSON
    assert oct(out.stat().st_mode)[-3:] == "600"
    assert sahay(["privacy", "erase", PERSON]) == 0
    assert "erased: 1 conversation(s), 3 tracker event(s)" in capsys.readouterr().out
    assert sahay(["privacy", "export", PERSON]) == 2
    assert sahay(["retention", "run"]) == 0


def test_the_audit_log_refuses_updates_and_deletes(database_url: str) -> None:
    migrate(database_url)
    with session_scope(database_url) as session:
        session.add(
            AuditEntry(actor="asha", action="view_case", target_type="handoff", target_id=1)
        )
    engine = get_engine(database_url)
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with session_scope(database_url) as session:
        assert [e.actor for e in session.query(AuditEntry)] == ["asha"]


def test_no_code_path_changes_the_audit_log() -> None:
    changing = re.compile(r"(update|delete)\(\s*AuditEntry|audit_log\s+SET|FROM\s+audit_log", re.I)
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for folder in ("bot", "actions", "ivr")
        for path in (PROJECT_ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts and changing.search(path.read_text())
    ]
    assert offenders == []


def test_key_rotation(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate(database_url)
    old_key = Fernet.generate_key().decode()
    new_key = Fernet.generate_key().decode()
    before = settings_for(tmp_path, database_url, SAHAY_ENCRYPTION_KEY=old_key)
    populate(before, PERSON)
    # Step 1: the new key in use, the old one still readable.
    monkeypatch.setenv("SAHAY_OLD_ENCRYPTION_KEYS", old_key)
    during = before.model_copy(update={"encryption_key": new_key, "old_encryption_keys": old_key})
    with session_scope(database_url) as session:
        token = session.query(Message).first().body_encrypted  # type: ignore[union-attr]
    assert decrypt(token, key=new_key).startswith("my story")
    # Step 2: re-encrypt everything; step 3: the old key can go.
    rotation = rotate_keys(settings=during)
    assert rotation.rows["messages"] == 2 and rotation.rows["contacts"] == 1
    monkeypatch.delenv("SAHAY_OLD_ENCRYPTION_KEYS")
    with session_scope(database_url) as session:
        assert [decrypt(m.body_encrypted, key=new_key, old_keys="") for m in session.query(Message)]
        phone = session.query(Contact).one().phone_encrypted
    assert decrypt(phone, key=new_key, old_keys="") == PERSON
    with pytest.raises(ValueError, match="cannot decrypt"):
        decrypt(phone, key=old_key, old_keys="")


def test_key_rotation_covers_every_encrypted_column() -> None:
    columns = encrypted_columns()
    for known in (
        ("contacts", "phone_encrypted"),
        ("counsellors", "phone_encrypted"),
        ("messages", "body_encrypted"),
        ("media_items", "data_encrypted"),  # voice notes and photos
        ("screening_results", "answers_encrypted"),
    ):
        assert known in columns
    binary = [
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    ]
    # A binary column that holds personal data follows the naming rule, so it is rotated.
    assert sorted(binary) == sorted(columns)
