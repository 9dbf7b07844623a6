"""Migrations and records on SQLite and PostgreSQL; nothing personal in clear."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import inspect, select, text

from bot.rasa_client import BotReply
from bot.routing.service import InboundMessage, handle_inbound
from bot.storage.crypto import decrypt
from bot.storage.db import get_engine, migrate, session_scope
from bot.storage.models import Contact, Conversation, Message
from tests.conftest import make_settings


class FixedRasa:
    def send(self, *, sender: str, text: str, metadata: dict[str, object]) -> list[BotReply]:
        return [BotReply(f"echo {text}")]


class Catalogue:
    def render(self, name: str, language: str | None, **values: str) -> str:
        return name

    def choices(self, name: str) -> list[str]:
        return []


def test_migrations_create_every_table_and_are_idempotent(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)
    tables = set(inspect(get_engine(database_url)).get_table_names())
    assert {"contacts", "conversations", "messages", "bot_sessions", "alembic_version"} <= tables


def test_inbound_and_reply_are_stored_encrypted_and_deduplicated(
    database_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    migrate(database_url)
    settings = make_settings(tmp_path, DATABASE_URL=database_url)
    inbound = InboundMessage(
        channel="whatsapp",
        address="whatsapp:+919812399999",
        text="ration card kaam nahi kar raha",
        message_sid="SM" + "b" * 32,
    )
    first = handle_inbound(
        settings=settings,
        rasa=FixedRasa(),
        catalogue=Catalogue(),  # type: ignore[arg-type]
        inbound=inbound,
    )
    again = handle_inbound(
        settings=settings,
        rasa=FixedRasa(),
        catalogue=Catalogue(),  # type: ignore[arg-type]
        inbound=inbound,
    )

    assert [r.text for r in first.replies] == ["echo ration card kaam nahi kar raha"]
    assert again.duplicate and again.replies == []
    with session_scope(database_url) as session:
        contact = session.scalars(select(Contact)).one()
        conversation = session.scalars(select(Conversation)).one()
        messages = session.scalars(select(Message).order_by(Message.id)).all()
        assert conversation.contact_id == contact.id
        assert [m.direction for m in messages] == ["in", "out"]
        assert messages[0].twilio_sid == "SM" + "b" * 32
        assert decrypt(messages[0].body_encrypted, key=settings.encryption_key) == inbound.text
        assert decrypt(contact.phone_encrypted, key=settings.encryption_key) == "+919812399999"
    with get_engine(database_url).connect() as connection:
        for table in ("contacts", "conversations", "messages"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                dump = repr(tuple(row))
                assert "9812399999" not in dump
                assert "kaam nahi" not in dump


def test_a_new_key_cannot_read_old_rows(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    migrate(database_url)
    settings = make_settings(tmp_path, DATABASE_URL=database_url)
    handle_inbound(
        settings=settings,
        rasa=FixedRasa(),
        catalogue=Catalogue(),  # type: ignore[arg-type]
        inbound=InboundMessage("whatsapp", "whatsapp:+919800000002", "x", "SM1"),
    )
    with session_scope(database_url) as session:
        contact = session.scalars(select(Contact)).one()
        other_key = Fernet.generate_key().decode()
        try:
            decrypt(contact.phone_encrypted, key=other_key)
        except ValueError:
            pass
        else:
            raise AssertionError("decrypted with the wrong key")


def test_sqlite_writes_ahead_and_syncs_at_checkpoints(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = get_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
