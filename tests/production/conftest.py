"""Throw-away PostgreSQL and Redis servers of the tests' own.

The fault tests stop and start these servers: they must never touch the PostgreSQL and
Redis that this machine (and other test runs) share. Both are started on free ports in a
temporary folder and removed afterwards. PostgreSQL refuses to run as root, so when the
tests run as root the server runs as the `postgres` user (through runuser).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.storage.conftest import database_url  # noqa: F401 - SQLite and PostgreSQL

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _pg_binary(name: str) -> str:
    for folder in PG_BIN_CANDIDATES:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"PostgreSQL's {name} is not installed (apt-get install postgresql): the "
            "fault tests start a PostgreSQL server of their own"
        )
    return found


@dataclass
class PrivatePostgres:
    """A PostgreSQL server the tests may stop and start."""

    port: int
    data: Path
    socket_dir: Path
    run_as: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.run_as, _pg_binary("pg_ctl"), "-D", str(self.data), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def start(self) -> None:
        # fsync off is safe against a stopped server (the OS keeps what was written);
        # synchronous_commit stays on, or a stop would lose acknowledged commits.
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._ctl("-o", options, "-l", str(self.data.parent / "postgres.log"), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        from sqlalchemy import create_engine, text

        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server on a free port, for this test session only."""
    initdb = _pg_binary("initdb")
    folder = Path(tempfile.mkdtemp(prefix="sahay-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root needs a `postgres` user to run PostgreSQL as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    server = PrivatePostgres(
        port=free_port(), data=folder / "data", socket_dir=folder, run_as=run_as
    )
    subprocess.run(
        [
            *run_as,
            initdb,
            "-D",
            str(server.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=120,
    )
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class PrivateRedis:
    """A Redis server the tests may stop and start."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.RedisError:
                time.sleep(0.1)
        pytest.fail("the test's own redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    """A Redis server on a free port, for this test session only."""
    folder = Path(tempfile.mkdtemp(prefix="sahay-redis-"))
    server = PrivateRedis(port=free_port(), folder=folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
