"""Production configuration from environment variables only, read by Rasa's own code."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.core.addresses import for_app, for_rasa, redis_address
from bot.core.config import PROJECT_ROOT
from bot.launcher import lock_store_environment, service_environment
from tests.conftest import make_settings

ENGINE_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"

_READ_ENDPOINTS = """
import json
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import read_endpoint_config
lock = LockStore.create(read_endpoint_config("endpoints.yml", "lock_store"))
tracker = read_endpoint_config("endpoints.yml", "tracker_store")
print(json.dumps({
    "lock": type(lock).__name__,
    "prefix": getattr(lock, "key_prefix", None),
    "redis": getattr(getattr(lock, "red", None), "connection_pool", None) and
        lock.red.connection_pool.connection_kwargs,
    "tracker_url": tracker.url,
    "tracker_dialect": tracker.kwargs["dialect"],
}, default=str))
"""


def test_addresses_name_the_driver_of_each_side() -> None:
    url = "postgresql+psycopg://sahay:pw@db:5432/rasa"
    assert for_rasa(url) == "postgresql://sahay:pw@db:5432/rasa"
    assert for_app(for_rasa(url)) == url
    assert for_rasa("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert for_app("postgres://u@h/d") == "postgresql+psycopg://u@h/d"


def test_redis_address_parts() -> None:
    address = redis_address("redis://:s%40cret@cache.internal:6380/3")
    assert (address.host, address.port, address.db, address.password) == (
        "cache.internal",
        6380,
        3,
        "s@cret",
    )
    assert redis_address("redis://localhost").port == 6379
    with pytest.raises(ValueError, match="redis://"):
        redis_address("http://localhost:6379")


def test_without_redis_the_lock_store_stays_in_memory() -> None:
    assert lock_store_environment("")["LOCK_STORE_TYPE"] == "in_memory"


def _rasa_reads(env: dict[str, str]) -> dict[str, object]:
    if not ENGINE_PYTHON.exists():
        pytest.fail("no engine env: run the tests through `make test`")
    out = subprocess.run(
        [str(ENGINE_PYTHON), "-c", _READ_ENDPOINTS],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_rasa_reads_redis_lock_store_and_postgres_tracker_from_env(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        TRACKER_URL="postgresql+psycopg://sahay:pw@db:5432/sahay_tracker",
        REDIS_URL="redis://:pw@cache:6380/4",
    )
    read = _rasa_reads(service_environment(settings))
    assert read["lock"] == "RedisLockStore"
    assert read["prefix"] == "sahay:lock:"
    redis_kwargs = read["redis"]
    assert isinstance(redis_kwargs, dict)
    assert (redis_kwargs["host"], redis_kwargs["port"], redis_kwargs["db"]) == ("cache", 6380, 4)
    assert redis_kwargs["password"] == "pw"
    assert read["tracker_url"] == "postgresql://sahay:pw@db:5432/sahay_tracker"
    assert read["tracker_dialect"] == "postgresql"


def test_rasa_defaults_to_in_memory_locks_and_sqlite(tmp_path: Path) -> None:
    read = _rasa_reads(service_environment(make_settings(tmp_path)))
    assert read["lock"] == "InMemoryLockStore"
    assert read["tracker_dialect"] == "sqlite"
