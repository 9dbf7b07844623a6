"""Personal data at rest: keyed hashes for look-ups, authenticated encryption for content.

A phone number is never stored in clear. Its HMAC-SHA256 under a secret key is the
look-up key (and the sender id Rasa sees); the number itself is kept encrypted so that a
counsellor can call back. Message texts are encrypted the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def phone_key(phone: str, *, secret: str) -> str:
    """The keyed hash of a normalised phone address, as 64 hex digits."""
    canonical = normalise_address(phone)
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def normalise_address(address: str) -> str:
    """Strip the channel prefix and spaces: 'whatsapp:+91 98...' and '+9198...' are one person."""
    _, _, number = address.strip().rpartition(":")
    # Digits of any script count as their ASCII digit ('९' is '9'); look-alikes such as
    # '²' are not digits of a number and are dropped.
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() else ch
        for ch in number
        if ch.isdecimal() or ch == "+"
    )


OLD_KEYS_VARIABLE = "SAHAY_OLD_ENCRYPTION_KEYS"


@lru_cache(maxsize=8)
def _fernet(key: str, old_keys: str = "") -> MultiFernet:
    # Encrypts with the first key; decrypts with any (key rotation, see README).
    keys = [key, *(k.strip() for k in old_keys.split(",") if k.strip())]
    return MultiFernet([Fernet(k.encode()) for k in keys])


def _old_keys(old_keys: str | None) -> str:
    return os.environ.get(OLD_KEYS_VARIABLE, "") if old_keys is None else old_keys


def encrypt(text: str, *, key: str) -> bytes:
    """Encrypt text with the data key (AES-128-CBC with HMAC, as Fernet defines it)."""
    return _fernet(key).encrypt(text.encode())


def decrypt(token: bytes, *, key: str, old_keys: str | None = None) -> str:
    """Decrypt what `encrypt` produced, under the data key or one of the earlier keys
    (SAHAY_OLD_ENCRYPTION_KEYS); raises ValueError when none fits."""
    try:
        return _fernet(key, _old_keys(old_keys)).decrypt(token).decode()
    except InvalidToken as error:
        raise ValueError("cannot decrypt: wrong key or damaged data") from error


def reencrypt(token: bytes, *, key: str, old_keys: str | None = None) -> bytes:
    """The same content encrypted under the current data key (for key rotation)."""
    try:
        return _fernet(key, _old_keys(old_keys)).rotate(token)
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
