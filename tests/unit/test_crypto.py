"""Keyed hashes and encryption of personal data."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.storage.crypto import decrypt, encrypt, normalise_address, phone_key


def test_one_person_one_key_whatever_the_channel_prefix() -> None:
    secret = "s" * 32
    assert phone_key("whatsapp:+91 98123 45678", secret=secret) == phone_key(
        "+919812345678", secret=secret
    )
    assert normalise_address("whatsapp:+91 98123-45678") == "+919812345678"


def test_the_key_depends_on_the_secret_and_hides_the_number() -> None:
    first = phone_key("+919812345678", secret="a" * 32)
    assert first != phone_key("+919812345678", secret="b" * 32)
    assert "9812345678" not in first


def test_encryption_round_trip_and_wrong_key() -> None:
    key = Fernet.generate_key().decode()
    token = encrypt("मेरा नाम", key=key)
    assert "मेरा".encode() not in token
    assert decrypt(token, key=key) == "मेरा नाम"
    with pytest.raises(ValueError, match="cannot decrypt"):
        decrypt(token, key=Fernet.generate_key().decode())
