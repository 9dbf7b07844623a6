"""Fixtures shared by every test layer.

Nothing here reaches a live service outside this machine. The `helpline` fixture starts
the real Rasa server (with the trained model), the real action server and the gateway as
processes on free ports, once per test session.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator

from bot.core.config import PROJECT_ROOT, Settings
from bot.launcher import service_commands, start, stop, wait_until_ready

TWILIO_TEST_TOKEN = "test-auth-token-" + "0" * 16


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_settings(tmp: Path, **overrides: str) -> Settings:
    """Settings for an isolated helpline: its own database files, ports and secrets."""
    values = {
        "SAHAY_ENV": "test",
        "DATABASE_URL": f"sqlite:///{tmp / 'sahay.db'}",
        "TRACKER_URL": f"sqlite:///{tmp / 'tracker.db'}",
        "SAHAY_PHONE_HASH_KEY": secrets.token_urlsafe(32),
        "SAHAY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "RASA_TOKEN": secrets.token_urlsafe(16),
        "TWILIO_AUTH_TOKEN": TWILIO_TEST_TOKEN,
        # Ports nobody listens on, unless a test starts servers there: a helpline running
        # on this machine (make run) must not answer for a test's stand-ins.
        "RASA_PORT": str(free_port()),
        "ACTION_SERVER_PORT": str(free_port()),
        # Tests send fast from one address; tests/production/test_hostile.py sets limits.
        "SAHAY_RATE_IP_PER_MINUTE": "0",
        "SAHAY_RATE_SENDER_PER_MINUTE": "0",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def sign(url: str, params: dict[str, str], token: str = TWILIO_TEST_TOKEN) -> str:
    """X-Twilio-Signature for a form POST, computed by twilio's own validator."""
    return RequestValidator(token).compute_signature(url, params)


def whatsapp_form(
    body: str, *, sid: str | None = None, sender: str = "+919812345678", **extra: str
) -> dict[str, str]:
    """The fields Twilio posts for an inbound WhatsApp message."""
    return {
        "MessageSid": sid or "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "1" * 32,
        "From": f"whatsapp:{sender}",
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def post_signed(
    client: httpx.Client | object, url: str, form: dict[str, str], token: str = TWILIO_TEST_TOKEN
) -> httpx.Response:
    """POST a form the way Twilio does, signed for `url`."""
    headers = {
        "X-Twilio-Signature": sign(url, form, token),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return client.post(url, content=urlencode(form), headers=headers)  # type: ignore[attr-defined,no-any-return]


@dataclass
class Helpline:
    """A running helpline: its address, settings and log folder.

    `processes` maps each service's name to its process; `running_helpline` stops whatever
    it holds when the block ends, so a caller that restarts a service (the benchmark)
    puts the new process there.
    """

    url: str
    settings: Settings
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def whatsapp(self, body: str, **kwargs: str) -> httpx.Response:
        """Send a signed WhatsApp message to the gateway."""
        with httpx.Client(timeout=30) as client:
            return post_signed(client, f"{self.url}/twilio/whatsapp", whatsapp_form(body, **kwargs))


@contextmanager
def running_helpline(tmp: Path) -> Iterator[Helpline]:
    """Rasa, the action server and the gateway, started as `make run` starts them."""
    model = PROJECT_ROOT / "models" / "sahay.tar.gz"
    if not model.exists():
        pytest.fail("no trained model: run the tests through `make test`, which trains it")
    settings = make_settings(
        tmp,
        GATEWAY_PORT=str(free_port()),
        RASA_PORT=str(free_port()),
        ACTION_SERVER_PORT=str(free_port()),
        # token_urlsafe() can start with "-"; make sure such a token reaches Rasa intact.
        RASA_TOKEN="-" + secrets.token_urlsafe(16),
    )
    logs = tmp / "logs"
    processes: dict[str, subprocess.Popen[bytes]] = {
        command.name: start(command, log_dir=logs) for command in service_commands(settings)
    }
    url = f"http://127.0.0.1:{settings.gateway_port}"
    try:
        if not wait_until_ready(url, list(processes.values())):
            report = "\n".join(
                f"--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}"
                for log in sorted(logs.glob("*.log"))
            )
            pytest.fail(f"the helpline did not become ready:\n{report}")
        yield Helpline(url=url, settings=settings, logs=logs, processes=processes)
    finally:
        stop(list(processes.values()))


@pytest.fixture(scope="session")
def helpline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Helpline]:
    """One running helpline shared by the integration and browser tests."""
    with running_helpline(tmp_path_factory.mktemp("helpline")) as running:
        yield running


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An environment without any Sahay or Twilio variable, and a fresh settings cache."""
    from bot.core.config import get_settings

    for name in list(os.environ):
        if name.startswith(("SAHAY_", "TWILIO_", "DATABASE_", "RASA_", "TRACKER_")):
            monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


#: The PostgreSQL server of this machine, for tests of the production configuration.
MACHINE_POSTGRES = os.environ.get(
    "SAHAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def fresh_postgres_databases(*prefixes: str) -> Iterator[list[str]]:
    """Empty databases on this machine's PostgreSQL server, one per prefix (a random
    suffix each), dropped afterwards; fails the test when the server is not usable."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.storage.db import get_engine

    suffix = secrets.token_hex(4)
    names = [f"{prefix}_{suffix}" for prefix in prefixes]
    admin = create_engine(MACHINE_POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # the server is part of this machine's test set-up
        pytest.fail(f"PostgreSQL at {MACHINE_POSTGRES} is not usable: {error}")
    base = make_url(MACHINE_POSTGRES)
    urls = [base.set(database=name).render_as_string(hide_password=False) for name in names]
    try:
        yield urls
    finally:
        for url in urls:
            get_engine(url).dispose()
        with admin.connect() as connection:
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
