"""Instrument definitions (`knowledge/instruments/<id>.yml`) and their texts per language
(`knowledge/instruments/text/<lang>.yml`), loaded once and validated on load."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.language import LANGUAGES

INSTRUMENTS_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "instruments"
INSTRUMENT_IDS = ("phq2", "phq9", "gad2", "gad7", "phq4", "pc_ptsd5", "asq")
SCALES = {"frequency": (0, 1, 2, 3), "yes_no": (0, 1)}


class InstrumentError(ValueError):
    """An instrument or text file is incomplete or inconsistent; the message names it."""


@dataclass(frozen=True)
class Band:
    """A published score range and its name."""

    low: int
    high: int
    name: str


@dataclass(frozen=True)
class Instrument:
    """One validated instrument: its items, answer scale and published scoring."""

    id: str
    name: str
    scale: str
    items: tuple[str, ...]
    bands: tuple[Band, ...]
    positive_from: int | None
    alternative_positive_from: int | None
    flags: tuple[tuple[str, int, str], ...]  # (item, above, flag)
    parts: tuple[str, ...]
    gate: str | None
    acuity_item: str | None
    text_from: str
    source_url: str
    licence: str
    last_checked: dt.date

    @property
    def max_value(self) -> int:
        """The highest value one answer can take."""
        return max(SCALES[self.scale])

    def band_of(self, total: int) -> str:
        """The band a total falls in."""
        for band in self.bands:
            if band.low <= total <= band.high:
                return band.name
        raise ValueError(f"{self.id}: total {total} is outside every band")


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise InstrumentError(f"{where}: {message}")


@cache
def load_instrument(instrument_id: str) -> Instrument:
    """Load and validate `knowledge/instruments/<id>.yml` (parts are expanded)."""
    path = INSTRUMENTS_DIR / f"{instrument_id}.yml"
    where = str(path.relative_to(INSTRUMENTS_DIR.parents[1]))
    _require(path.exists(), where, "no such instrument")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for field in ("id", "name", "source", "licence", "last_checked", "scale", "scoring"):
        _require(field in data, where, f"missing '{field}'")
    _require(data["id"] == instrument_id, where, "id does not match the file name")
    _require(data["scale"] in SCALES, where, f"unknown scale {data['scale']!r}")
    _require(bool((data["source"] or {}).get("url")), where, "source.url is missing")
    parts = tuple(data.get("parts") or ())
    items: tuple[str, ...]
    if parts:
        items = tuple(item for part in parts for item in load_instrument(part).items)
    else:
        items = tuple(data.get("items") or ())
    _require(bool(items), where, "no items")
    scoring = data["scoring"] or {}
    bands = tuple(
        Band(int(b["min"]), int(b["max"]), str(b["band"])) for b in scoring.get("bands") or ()
    )
    if scoring.get("rule") != "asq":
        _require(bool(bands), where, "scoring.bands is missing")
        highest = len(items) * max(SCALES[data["scale"]])
        covered = [value for band in bands for value in range(band.low, band.high + 1)]
        _require(
            sorted(covered) == list(range(highest + 1)),
            where,
            f"bands must cover 0..{highest} exactly once",
        )
    flags = tuple(
        (str(f["item"]), int(f["above"]), str(f["flag"])) for f in scoring.get("flags") or ()
    )
    for item, _, _ in flags:
        _require(item in items, where, f"flag on unknown item {item!r}")
    checked = data["last_checked"]
    return Instrument(
        id=instrument_id,
        name=str(data["name"]),
        scale=str(data["scale"]),
        items=items,
        bands=bands,
        positive_from=scoring.get("positive_from"),
        alternative_positive_from=scoring.get("alternative_positive_from"),
        flags=flags,
        parts=parts,
        gate=data.get("gate"),
        acuity_item=data.get("acuity_item"),
        text_from=str(data.get("text_from") or instrument_id),
        source_url=str(data["source"]["url"]),
        licence=str(data["licence"]),
        last_checked=checked if isinstance(checked, dt.date) else dt.date.fromisoformat(checked),
    )


@cache
def instrument_texts(language: str) -> dict[str, Any]:
    """The texts of every instrument and of the screening conversation in `language`."""
    _require(language in LANGUAGES, "knowledge/instruments/text", f"unknown language {language!r}")
    path = INSTRUMENTS_DIR / "text" / f"{language}.yml"
    _require(path.exists(), str(path), "missing language file")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return data


def item_text(instrument: Instrument, item: str, language: str) -> str:
    """The text of one item in `language`."""
    texts = instrument_texts(language)["instruments"]
    for source in (instrument.text_from, *instrument.parts, instrument.id):
        found = (texts.get(source) or {}).get("items", {}).get(item)
        if found:
            return str(found)
    # PHQ-4's items live in the PHQ-9 and GAD-7 texts.
    for source in ("phq9", "gad7"):
        found = (texts.get(source) or {}).get("items", {}).get(item)
        if found:
            return str(found)
    raise InstrumentError(f"{language}: no text for {instrument.id}.{item}")
