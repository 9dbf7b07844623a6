"""Personal data at rest: keyed hashes for look-ups, authenticated encryption for content.

A phone number is never stored in clear. Its HMAC-SHA256 under a secret key is the
look-up key (and the sender id Rasa sees); the number itself is kept encrypted so that a
counsellor can call back. Message texts are encrypted the same way.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken


def phone_key(phone: str, *, secret: str) -> str:
    """The keyed hash of a normalised phone address, as 64 hex digits."""
    canonical = normalise_address(phone)
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def normalise_address(address: str) -> str:
    """Strip the channel prefix and spaces: 'whatsapp:+91 98...' and '+9198...' are one person."""
    _, _, number = address.strip().rpartition(":")
    return "".join(ch for ch in number if ch.isdigit() or ch == "+")


@lru_cache(maxsize=8)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(text: str, *, key: str) -> bytes:
    """Encrypt text with the data key (AES-128-CBC with HMAC, as Fernet defines it)."""
    return _fernet(key).encrypt(text.encode())


def decrypt(token: bytes, *, key: str) -> str:
    """Decrypt what `encrypt` produced; raises ValueError when the key does not fit."""
    try:
        return _fernet(key).decrypt(token).decode()
    except InvalidToken as error:
        raise ValueError("cannot decrypt: wrong key or damaged data") from error


def encrypt_bytes(data: bytes, *, key: str) -> bytes:
    """Encrypt raw bytes (a photo, a voice note) with the data key, as `encrypt` does text."""
    return _fernet(key).encrypt(data)


def decrypt_bytes(token: bytes, *, key: str) -> bytes:
    """Decrypt what `encrypt_bytes` produced; raises ValueError when the key does not fit."""
    try:
        return _fernet(key).decrypt(token)
    except InvalidToken as error:
        raise ValueError("cannot decrypt: wrong key or damaged data") from error
