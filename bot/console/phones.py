"""Counsellors' own phone numbers: where a waiting phone caller is put through to them.

A counsellor's number is personal data: it is stored encrypted with the data key, like
every phone number in Sahay, set and cleared with `sahay counsellors phone`, and shown
only by its last digits.
"""

from __future__ import annotations

import re

from bot.storage.crypto import decrypt, encrypt
from bot.storage.models import Counsellor

_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_SEPARATORS = re.compile(r"[\s().-]")


class PhoneNumberError(ValueError):
    """Not a number Twilio can dial."""


def normalise_phone(text: str) -> str:
    """The number in E.164 (+919812345678); spaces, dashes and brackets are dropped.

    Raises:
        PhoneNumberError: it is not an international number with its country code.
    """
    number = _SEPARATORS.sub("", text.strip())
    if not _E164.match(number):
        raise PhoneNumberError(
            f"{text!r} is not a phone number with its country code, such as +919812345678"
        )
    return number


def set_counsellor_phone(counsellor: Counsellor, number: str | None, *, key: str) -> None:
    """Keep the counsellor's number encrypted (None forgets it).

    Raises:
        PhoneNumberError: `number` is not a dialable international number.
    """
    counsellor.phone_encrypted = (
        None if number is None else encrypt(normalise_phone(number), key=key)
    )


def counsellor_phone(counsellor: Counsellor, *, key: str) -> str | None:
    """The counsellor's number, if they gave one and the data key can read it."""
    if counsellor.phone_encrypted is None:
        return None
    try:
        return decrypt(counsellor.phone_encrypted, key=key)
    except ValueError:
        return None


def masked(number: str) -> str:
    """Only the last digits, for screens and logs: "…0001"."""
    return "…" + number[-4:]
