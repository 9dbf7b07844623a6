"""Sign-in, sessions and CSRF for the console and its API.

- Passwords are stored as argon2id hashes (argon2-cffi's defaults).
- Five wrong passwords in a row lock the account for fifteen minutes.
- A session is a signed token (HMAC-SHA256 under a key derived from the data key), held
  in an HttpOnly, SameSite=Strict cookie by browsers or sent as a bearer token by API
  clients. It names the counsellor and a fingerprint of their password hash, so that a
  new password ends every older session.
- Every POST made with the cookie carries a CSRF token derived from the session's nonce.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.handoff.queue import aware
from bot.storage.models import Counsellor, utcnow

MAX_FAILED_SIGN_INS = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
ROLES = ("counsellor", "supervisor", "peer_supporter")

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the username is unknown, so that answering takes as long.
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The argon2id hash of a password, for `Counsellor.password_hash`."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password fits the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class SignInResult:
    """The counsellor when the password fitted; otherwise whether the account is locked."""

    counsellor: Counsellor | None
    locked: bool = False


def authenticate(
    *, session: Session, username: str, password: str, now: dt.datetime | None = None
) -> SignInResult:
    """Check a username and password, counting failures and locking after too many.

    The caller commits the session whatever the result: the failure count must persist.
    """
    now = now or utcnow()
    counsellor = session.scalar(select(Counsellor).where(Counsellor.username == username))
    if counsellor is None or not counsellor.active:
        verify_password(_dummy_hash(), password)
        return SignInResult(None)
    if counsellor.locked_until is not None:
        if aware(counsellor.locked_until) > now:
            return SignInResult(None, locked=True)
        counsellor.failed_logins = 0
        counsellor.locked_until = None
    if not verify_password(counsellor.password_hash, password):
        # Counted in SQL, so that parallel guesses cannot share one count.
        session.execute(
            update(Counsellor)
            .where(Counsellor.id == counsellor.id)
            .values(failed_logins=Counsellor.failed_logins + 1)
            .execution_options(synchronize_session=False)
        )
        session.refresh(counsellor)
        if counsellor.failed_logins >= MAX_FAILED_SIGN_INS:
            counsellor.locked_until = now + LOCKOUT
            return SignInResult(None, locked=True)
        return SignInResult(None)
    counsellor.failed_logins = 0
    counsellor.locked_until = None
    if _hasher.check_needs_rehash(counsellor.password_hash):
        counsellor.password_hash = hash_password(password)
    return SignInResult(counsellor)


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the password hash: sessions made before a password change fail it."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ConsoleSession:
    """What a session token carries.

    Attributes:
        kind: "web" for the browser cookie (CSRF-checked), "api" for bearer tokens.
        nonce: random per sign-in; the CSRF token is derived from it.
        issued_at: seconds since the epoch.
        counsellor_id: None before sign-in (the sign-in form still needs a CSRF token).
        fingerprint: `password_fingerprint` of the counsellor's hash at sign-in.
    """

    kind: Literal["web", "api"]
    nonce: str
    issued_at: int
    counsellor_id: int | None = None
    fingerprint: str | None = None

    @classmethod
    def anonymous(cls) -> ConsoleSession:
        """A fresh session for someone not signed in yet."""
        return cls(kind="web", nonce=secrets.token_urlsafe(16), issued_at=_now_seconds())

    def signed_in(self, counsellor: Counsellor, *, kind: Literal["web", "api"]) -> ConsoleSession:
        """A new session for the counsellor, with a new nonce (no session fixation)."""
        return replace(
            self,
            kind=kind,
            nonce=secrets.token_urlsafe(16),
            issued_at=_now_seconds(),
            counsellor_id=counsellor.id,
            fingerprint=password_fingerprint(counsellor.password_hash),
        )


def session_key(encryption_key: str) -> bytes:
    """The signing key for session tokens, derived from the data key."""
    return hmac.new(encryption_key.encode(), b"sahay console session v1", hashlib.sha256).digest()


def seal(console_session: ConsoleSession, *, key: bytes) -> str:
    """The session as a signed token: base64url(JSON) '.' base64url(HMAC)."""
    payload = _b64(json.dumps(asdict(console_session), separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(key, payload))}"


def unseal(token: str, *, key: bytes, max_age: dt.timedelta) -> ConsoleSession | None:
    """The session in a token, or None when it is forged, damaged or too old."""
    payload, _, signature = token.partition(".")
    try:
        if not hmac.compare_digest(_unb64(signature), _mac(key, payload)):
            return None
        data = json.loads(_unb64(payload))
        console_session = ConsoleSession(**data)
    except (ValueError, TypeError):
        return None
    if console_session.kind not in ("web", "api"):
        return None
    if _now_seconds() - console_session.issued_at > max_age.total_seconds():
        return None
    return console_session


def csrf_token(console_session: ConsoleSession, *, key: bytes) -> str:
    """The CSRF token that POSTs made with this session must carry."""
    return hmac.new(key, f"csrf:{console_session.nonce}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(console_session: ConsoleSession, token: str | None, *, key: bytes) -> bool:
    """Whether `token` is this session's CSRF token."""
    return bool(token) and hmac.compare_digest(csrf_token(console_session, key=key), token or "")


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _now_seconds() -> int:
    return int(utcnow().timestamp())
