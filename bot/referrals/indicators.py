"""Anonymised indicators for planners: screening bands, needs and referral outcomes by
state and month, counted in people, with small cells suppressed.

A cell counts distinct people (contacts); a cell of fewer than :data:`MIN_CELL` people is
shown as suppressed (None), so that nobody can be singled out in a small district-month.
No identifier, district or free text leaves this module.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.referrals.models import Referral
from bot.storage.models import Conversation, ScreeningRecord

#: Cells with fewer people than this are suppressed.
MIN_CELL = 10
UNKNOWN_STATE = "unknown"


@dataclass(frozen=True)
class IndicatorCell:
    """One count: a measure, its category, for a state and month (None when suppressed)."""

    state: str
    month: str  # YYYY-MM
    measure: str  # screening_band, need, referral_outcome
    category: str
    people: int | None

    @property
    def suppressed(self) -> bool:
        """Whether the count is hidden because it is small."""
        return self.people is None


def _month(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m")


def suppress(
    counts: dict[tuple[str, str, str, str], set[int]], *, minimum: int = MIN_CELL
) -> list[IndicatorCell]:
    """Cells from sets of people, with every cell under `minimum` people suppressed."""
    cells = []
    for (state, month, measure, category), people in sorted(counts.items()):
        size = len(people)
        cells.append(
            IndicatorCell(state, month, measure, category, size if size >= minimum else None)
        )
    return cells


def indicator_counts(
    *, session: Session, since: dt.datetime | None = None
) -> dict[tuple[str, str, str, str], set[int]]:
    """People per (state, month, measure, category), before suppression."""
    counts: dict[tuple[str, str, str, str], set[int]] = defaultdict(set)
    screening = select(
        ScreeningRecord.instrument,
        ScreeningRecord.band,
        ScreeningRecord.created_at,
        Conversation.region_state,
        Conversation.contact_id,
    ).join(Conversation)
    referrals = select(
        Referral.kind,
        Referral.state,
        Referral.created_at,
        Referral.region_state,
        Referral.contact_id,
    )
    if since is not None:
        screening = screening.where(ScreeningRecord.created_at >= since)
        referrals = referrals.where(Referral.created_at >= since)
    for instrument, band, at, state, contact in session.execute(screening):
        key = (state or UNKNOWN_STATE, _month(at), "screening_band", f"{instrument}:{band}")
        counts[key].add(contact)
    for kind, outcome, at, state, contact in session.execute(referrals):
        place, month = state or UNKNOWN_STATE, _month(at)
        counts[(place, month, "need", kind)].add(contact)
        counts[(place, month, "referral_outcome", outcome)].add(contact)
    return counts


def indicators(
    *, session: Session, since: dt.datetime | None = None, minimum: int = MIN_CELL
) -> list[IndicatorCell]:
    """The anonymised indicators, small cells suppressed."""
    return suppress(indicator_counts(session=session, since=since), minimum=minimum)


def indicators_csv(cells: Iterable[IndicatorCell]) -> str:
    """The indicators as CSV; a suppressed cell reads "<10"."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["state", "month", "measure", "category", "people"])
    for cell in cells:
        shown = f"<{MIN_CELL}" if cell.people is None else str(cell.people)
        writer.writerow([cell.state, cell.month, cell.measure, cell.category, shown])
    return out.getvalue()


#: Columns of the partner CSV: no names, numbers or conversation content.
PARTNER_COLUMNS = (
    "code",
    "kind",
    "service",
    "district",
    "state",
    "priority",
    "status",
    "created_at",
    "updated_at",
)


def referrals_csv(referrals: Iterable[Referral]) -> str:
    """Referrals for a partner NGO: reference code, need, service, place, outcome, dates."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PARTNER_COLUMNS)
    for r in referrals:
        writer.writerow(
            [
                r.code,
                r.kind,
                r.service,
                r.district or "",
                r.region_state or "",
                r.priority,
                r.state,
                r.created_at.isoformat(timespec="seconds"),
                r.updated_at.isoformat(timespec="seconds"),
            ]
        )
    return out.getvalue()
