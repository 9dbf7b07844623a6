"""The service directory: local offices a worker can walk into, and where to turn when
there is none on record.

The directory is content (``knowledge/services/directory.csv``), one office a row, each
with the page it was checked against. :func:`validate_rows` checks rows against the
gazetteer and says, row by row, what is wrong; :func:`lookup_services` finds the
offices of a kind for a district, falling back to the state and then to the national
helplines that serve the same need, so that the bot always has somewhere to send
someone.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from bot.knowledge.gazetteer import Gazetteer, load_gazetteer
from bot.knowledge.loader import KNOWLEDGE_DIR, load_helplines
from bot.knowledge.models import Helpline

__all__ = [
    "COLUMNS",
    "DIRECTORY_CSV",
    "NATIONAL_FALLBACK",
    "RowError",
    "Service",
    "ServiceLookup",
    "ServiceType",
    "load_directory",
    "lookup_services",
    "validate_rows",
]

DIRECTORY_CSV = KNOWLEDGE_DIR / "services" / "directory.csv"
COLUMNS = (
    "service_type",
    "name",
    "state",
    "district",
    "lgd_district_code",
    "address",
    "phone",
    "hours",
    "source_url",
    "last_checked",
)


class ServiceType(StrEnum):
    """Kinds of local office the helpline refers people to."""

    ONE_STOP_CENTRE = "one_stop_centre"
    DMHP = "dmhp"
    DLSA = "dlsa"
    AHTU = "ahtu"
    LABOUR_OFFICE = "labour_office"
    SHELTER = "shelter"


#: Where to turn, by kind of office, when no local office is on record: helpline ids.
NATIONAL_FALLBACK: Mapping[ServiceType, tuple[str, ...]] = {
    ServiceType.ONE_STOP_CENTRE: ("women_helpline", "emergency"),
    ServiceType.DMHP: ("tele_manas",),
    ServiceType.DLSA: ("nalsa_legal_aid",),
    ServiceType.AHTU: ("emergency", "women_helpline", "childline"),
    ServiceType.LABOUR_OFFICE: ("nalsa_legal_aid",),
    ServiceType.SHELTER: ("women_helpline", "childline", "emergency"),
}

# One or more numbers separated by ";": ASCII digits, an optional +91, spaces or
# hyphens between groups; 3 to 13 digits once the separators are gone.
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{1,16}[0-9]$")


@dataclass(frozen=True)
class Service:
    """One office of the directory."""

    service_type: ServiceType
    name: str
    state: str
    district: str | None
    lgd_district_code: int | None
    address: str
    phones: tuple[str, ...]
    hours: str
    source_url: str
    last_checked: date


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row of the directory (``row`` counts from 1 after the header)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.column}: {self.message}"


def _phone_errors(cell: str) -> list[str]:
    errors = []
    for number in (part.strip() for part in cell.split(";")):
        if not number:
            errors.append("has an empty number between ';'")
            continue
        digits = re.sub(r"[ \-+]", "", number)
        if not _PHONE.match(number) or not digits.isascii() or not 3 <= len(digits) <= 13:
            errors.append(f"{number!r} is not a phone number in ASCII digits")
    return errors


def _check_row(row: Mapping[str, str | None], number: int, gaz: Gazetteer) -> list[RowError]:
    errors: list[RowError] = []

    def cell(column: str) -> str:
        return (row.get(column) or "").strip()

    def error(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    missing = [column for column in COLUMNS if column not in row]
    if missing:
        error(",".join(missing), "column is missing")
        return errors
    if cell("service_type") not in {t.value for t in ServiceType}:
        error("service_type", f"unknown type {cell('service_type')!r}")
    if not cell("name"):
        error("name", "is empty")
    state = gaz.state_entry(cell("state")) if cell("state") else None
    if state is None:
        error("state", f"unknown state {cell('state')!r} (use the gazetteer's spelling)")
    elif cell("district"):
        district = gaz.district_entry(state.state, cell("district"))
        if district is None:
            error("district", f"unknown district {cell('district')!r} of {state.state}")
        elif cell("lgd_district_code") and cell("lgd_district_code") != str(district.code):
            error(
                "lgd_district_code",
                f"is {cell('lgd_district_code')}, but {district.district} is {district.code}",
            )
    elif cell("lgd_district_code"):
        error("lgd_district_code", "is set but district is empty")
    if cell("phone"):
        for message in _phone_errors(cell("phone")):
            error("phone", message)
    url = urlparse(cell("source_url"))
    if not cell("source_url"):
        error("source_url", "is missing: every entry needs the page it was checked against")
    elif url.scheme not in ("http", "https") or not url.netloc:
        error("source_url", f"{cell('source_url')!r} is not a web address")
    try:
        date.fromisoformat(cell("last_checked"))
    except ValueError:
        error("last_checked", f"{cell('last_checked')!r} is not a date (YYYY-MM-DD)")
    return errors


def _service_of(row: Mapping[str, str | None], gaz: Gazetteer) -> Service:
    def cell(column: str) -> str:
        return (row.get(column) or "").strip()

    state = gaz.state_entry(cell("state"))
    assert state is not None  # checked by _check_row
    district = gaz.district_entry(state.state, cell("district")) if cell("district") else None
    return Service(
        service_type=ServiceType(cell("service_type")),
        name=cell("name"),
        state=state.state,
        district=district.district if district else None,
        lgd_district_code=district.code if district else None,
        address=cell("address"),
        phones=tuple(p.strip() for p in cell("phone").split(";") if p.strip()),
        hours=cell("hours"),
        source_url=cell("source_url"),
        last_checked=date.fromisoformat(cell("last_checked")),
    )


def validate_rows(
    rows: Iterable[Mapping[str, str | None]], *, gazetteer: Gazetteer | None = None
) -> tuple[list[Service], list[RowError]]:
    """Check directory rows (as :class:`csv.DictReader` gives them).

    Args:
        rows: One mapping per row, keyed by :data:`COLUMNS`.
        gazetteer: States and districts to check against; the project's by default.

    Returns:
        The valid rows as :class:`Service` objects, and an error per problem found
        (a row can have several), numbered from 1 after the header.
    """
    gaz = gazetteer or load_gazetteer()
    valid: list[Service] = []
    errors: list[RowError] = []
    for number, row in enumerate(rows, 1):
        row_errors = _check_row(row, number, gaz)
        if row_errors:
            errors += row_errors
        else:
            valid.append(_service_of(row, gaz))
    return valid, errors


class DirectoryError(ValueError):
    """The directory CSV has invalid rows."""

    def __init__(self, path: Path, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(f"{path.name}: {e}" for e in errors))


@lru_cache(maxsize=2)
def load_directory(path: Path = DIRECTORY_CSV) -> tuple[Service, ...]:
    """Every office in the directory CSV.

    Raises:
        DirectoryError: when any row is invalid (the directory is content under review:
            a bad row is a bug to fix, not something to skip silently).
    """
    with path.open(encoding="utf-8", newline="") as handle:
        services, errors = validate_rows(csv.DictReader(handle))
    if errors:
        raise DirectoryError(path, errors)
    return tuple(services)


@dataclass(frozen=True)
class ServiceLookup:
    """The answer to "where can I go?".

    Attributes:
        level: ``"district"`` or ``"state"`` when offices were found there, else
            ``"national"``.
        services: Offices of the kind asked for (empty at national level).
        helplines: National lines that serve the same need; always given, so that a
            reply can offer a phone number beside (or instead of) an address.
    """

    level: str
    services: tuple[Service, ...]
    helplines: tuple[Helpline, ...]


def lookup_services(
    service_type: ServiceType | str,
    district: str | int | None = None,
    state: str | None = None,
    *,
    services: Iterable[Service] | None = None,
    helplines: Mapping[str, Helpline] | None = None,
) -> ServiceLookup:
    """Offices of one kind for a place, falling back district → state → national.

    Args:
        service_type: A :class:`ServiceType` or its value ("dlsa").
        district: The district's gazetteer name or LGD code, if known.
        state: The state's gazetteer name, if known. With only a district code given,
            the state is the district's own.
        services: The directory to search; the project's directory by default.
        helplines: The helplines; the project's ``helplines.yml`` by default.
    """
    kind = ServiceType(service_type)
    pool = [
        s for s in (load_directory() if services is None else services) if s.service_type == kind
    ]
    table = load_helplines() if helplines is None else helplines
    national = tuple(table[h] for h in NATIONAL_FALLBACK[kind] if h in table)

    if district is not None:
        here = [
            s
            for s in pool
            if (isinstance(district, int) and s.lgd_district_code == district)
            or (
                isinstance(district, str)
                and s.district is not None
                and s.district.casefold() == district.strip().casefold()
                and (state is None or s.state.casefold() == state.strip().casefold())
            )
        ]
        if here:
            return ServiceLookup("district", tuple(here), national)
        if state is None:
            # The district's own state, taken from any office on record there, or from
            # the gazetteer when the district was named by code.
            state = _state_of_district(district)
    if state is not None:
        in_state = [s for s in pool if s.state.casefold() == state.strip().casefold()]
        if in_state:
            # State-wide offices (no district) first: they serve the whole state.
            in_state.sort(key=lambda s: s.district is not None)
            return ServiceLookup("state", tuple(in_state), national)
    return ServiceLookup("national", (), national)


def _state_of_district(district: str | int) -> str | None:
    gaz = load_gazetteer()
    matches = {
        entry.state
        for entry in gaz.entries
        if entry.district is not None
        and (
            entry.code == district
            if isinstance(district, int)
            else entry.district.casefold() == str(district).strip().casefold()
        )
    }
    # A district name shared by two states says nothing about which one.
    return matches.pop() if len(matches) == 1 else None
