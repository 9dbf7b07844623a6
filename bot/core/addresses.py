"""Database and Redis addresses as each side needs them.

Rasa's engine env has SQLAlchemy 1.4 with psycopg2; the app env has SQLAlchemy 2 with
psycopg 3. One PostgreSQL address (`TRACKER_URL`) serves both once its driver is named
for the side that opens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg")


def _split_scheme(url: str) -> tuple[str, str]:
    scheme, sep, rest = url.partition("://")
    return (scheme, rest) if sep else ("", url)


def for_rasa(url: str) -> str:
    """The address for Rasa's SQLAlchemy 1.4 (psycopg2): 'postgresql+psycopg://' -> 'postgresql://'."""
    scheme, rest = _split_scheme(url)
    if scheme in _POSTGRES_SCHEMES:
        return f"postgresql://{rest}"
    return url


def for_app(url: str) -> str:
    """The address for the app's SQLAlchemy 2 (psycopg 3): 'postgresql://' -> 'postgresql+psycopg://'."""
    scheme, rest = _split_scheme(url)
    if scheme in _POSTGRES_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    return url


@dataclass(frozen=True)
class RedisAddress:
    """The parts of a redis:// address that Rasa's lock store takes one by one."""

    host: str
    port: int
    db: int
    password: str


def redis_address(url: str) -> RedisAddress:
    """Split 'redis://:password@host:port/db' (port 6379 and db 0 by default).

    Raises:
        ValueError: not a redis:// address.
    """
    parts = urlsplit(url)
    if parts.scheme != "redis" or not parts.hostname:
        raise ValueError("REDIS_URL must look like redis://host:6379/0")
    path = parts.path.strip("/")
    return RedisAddress(
        host=parts.hostname,
        port=parts.port or 6379,
        db=int(path) if path.isdigit() else 0,
        password=unquote(parts.password or ""),
    )
