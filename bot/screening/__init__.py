"""Validated screening instruments: loading, answers in any language, published scoring.

Pure code (standard library, PyYAML, `bot.language`); the Rasa form in `actions/`
drives the conversation and the IVR drives the keypad version.
"""

from bot.screening.answers import parse_answer
from bot.screening.instruments import (
    INSTRUMENT_IDS,
    Instrument,
    InstrumentError,
    instrument_texts,
    load_instrument,
)
from bot.screening.scoring import ScreeningResult, next_instruments, score

__all__ = [
    "INSTRUMENT_IDS",
    "Instrument",
    "InstrumentError",
    "ScreeningResult",
    "instrument_texts",
    "load_instrument",
    "next_instruments",
    "parse_answer",
    "score",
]
