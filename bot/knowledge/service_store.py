"""The service directory in the app database: validated imports and look-ups.

The reviewed content in `knowledge/services/directory.csv` is always part of the
directory; partners' lists are imported with `sahay services import FILE`: every row is
checked first, and one bad row means nothing is imported.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge.directory import (
    RowError,
    Service,
    ServiceLookup,
    ServiceType,
    load_directory,
    lookup_services,
    validate_rows,
)
from bot.storage.models import ServiceEntry


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows added or updated, or the errors that stopped it."""

    added: int
    updated: int
    errors: tuple[RowError, ...]


def import_services(*, session: Session, path: Path) -> ImportResult:
    """Validate every row of a directory CSV, then add or update them all, or none."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            services, errors = validate_rows(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        return ImportResult(0, 0, (RowError(0, "file", str(error)),))
    if errors:
        return ImportResult(0, 0, tuple(errors))
    added = updated = 0
    for service in services:
        existing = session.scalar(
            select(ServiceEntry).where(
                ServiceEntry.service_type == service.service_type.value,
                ServiceEntry.state == service.state,
                ServiceEntry.district == service.district,
                ServiceEntry.name == service.name,
            )
        )
        entry = existing or ServiceEntry(
            service_type=service.service_type.value,
            name=service.name,
            state=service.state,
            district=service.district,
        )
        entry.lgd_district_code = service.lgd_district_code
        entry.address = service.address
        entry.phones = list(service.phones)
        entry.hours = service.hours
        entry.source_url = service.source_url
        entry.last_checked = service.last_checked
        if existing is None:
            session.add(entry)
            added += 1
        else:
            updated += 1
    session.flush()
    return ImportResult(added, updated, ())


def directory(session: Session) -> list[Service]:
    """The reviewed directory plus everything imported (an import wins on the same office)."""
    imported = [_as_service(entry) for entry in session.scalars(select(ServiceEntry)).all()]
    keys = {(s.service_type, s.state, s.district, s.name) for s in imported}
    reviewed = [
        s for s in load_directory() if (s.service_type, s.state, s.district, s.name) not in keys
    ]
    return reviewed + imported


def nearest_services(
    *, session: Session, service_type: ServiceType | str, district: str | None, state: str | None
) -> ServiceLookup:
    """Offices of one kind near a person: district, then state, then national helplines."""
    return lookup_services(service_type, district, state, services=directory(session))


def _as_service(entry: ServiceEntry) -> Service:
    return Service(
        service_type=ServiceType(entry.service_type),
        name=entry.name,
        state=entry.state,
        district=entry.district,
        lgd_district_code=entry.lgd_district_code,
        address=entry.address,
        phones=tuple(entry.phones or ()),
        hours=entry.hours,
        source_url=entry.source_url,
        last_checked=entry.last_checked,
    )
