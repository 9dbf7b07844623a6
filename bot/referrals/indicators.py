"""Anonymised indicators for planners: screening bands, needs and referral outcomes by
state and month, counted in people, with small cells suppressed.

Each measure and month is a table: states by categories, with a total for every state
("all" categories), every category ("all" states) and the month. A cell counts distinct
people (contacts), and so does a total (a person in two categories counts once).

Suppression comes in two steps, as statistical offices do it:

1. primary: every count (cell or total) under :data:`MIN_CELL` people is hidden, so that
   nobody can be singled out in a small state-month;
2. complementary (secondary): more counts are hidden until no hidden count can be worked
   out from the published ones. Each row and column is treated as adding up exactly to
   its total — the attacker's best case — and so are the totals of needs and of outcomes,
   which count the same people (everyone with a referral). A line of the table with one
   hidden count gets its smallest published count hidden too, until no line has exactly
   one; then an exact check (integer Gaussian elimination over the equations of every
   line) finds any hidden count that a combination of lines still fixes, and hides one
   more count next to it, until there is none.

Hidden counts are None; the CSV and page show them as "suppressed", whatever their
size, because "<10" would give away which ones were hidden for their neighbours' sake.
No identifier, district or free text leaves this module.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.referrals.models import Referral
from bot.storage.models import Conversation, ScreeningRecord

#: Counts of fewer people than this are suppressed.
MIN_CELL = 10
UNKNOWN_STATE = "unknown"
#: The category of a state's total, and the state of a category's total.
ALL = "all"
SUPPRESSED = "suppressed"
#: Measures that count the same people in their totals: everyone with a referral.
SAME_PEOPLE = ("need", "referral_outcome")

Key = tuple[str, str, str, str]  # state, month, measure, category
#: One line of a table: counts with +1 or -1, adding up to zero (cells minus their total).
Line = tuple[tuple[Key, int], ...]


@dataclass(frozen=True)
class IndicatorCell:
    """One count: a measure, its category, for a state and month (None when suppressed).

    A state's total has the category "all"; a category's total over every state has the
    state "all"; the month's total has both.
    """

    state: str
    month: str  # YYYY-MM
    measure: str  # screening_band, need, referral_outcome
    category: str
    people: int | None

    @property
    def suppressed(self) -> bool:
        """Whether the count is hidden (small, or the key to a small one)."""
        return self.people is None

    @property
    def total(self) -> bool:
        """Whether this is a total of a row, a column or the whole table."""
        return ALL in (self.state, self.category)


def _month(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m")


def with_totals(counts: Mapping[Key, set[int]]) -> dict[Key, set[int]]:
    """The counts with each table's totals added: per state, per category, per month."""
    out: dict[Key, set[int]] = defaultdict(set)
    for (state, month, measure, category), people in counts.items():
        if ALL in (state, category):
            raise ValueError(f"{ALL!r} is kept for totals")
        for key in (
            (state, month, measure, category),
            (state, month, measure, ALL),
            (ALL, month, measure, category),
            (ALL, month, measure, ALL),
        ):
            out[key] |= people
    return dict(out)


def table_lines(keys: Iterable[Key]) -> list[Line]:
    """The equations an attacker may assume between published counts.

    Every row and column of a table adds up to its total (the row of state totals and
    the row of category totals add up to the month's), and the totals of the measures
    in :data:`SAME_PEOPLE` are equal, state by state and for the month.
    """
    keys = set(keys)
    rows: dict[tuple[str, str, str], list[Key]] = defaultdict(list)
    columns: dict[tuple[str, str, str], list[Key]] = defaultdict(list)
    for key in keys:
        state, month, measure, category = key
        if category != ALL:
            rows[(state, month, measure)].append(key)
        if state != ALL:
            columns[(category, month, measure)].append(key)
    lines: list[Line] = []
    for (state, month, measure), members in rows.items():
        total = (state, month, measure, ALL)
        if total in keys:
            lines.append(((total, -1), *((k, 1) for k in sorted(members))))
    for (category, month, measure), members in columns.items():
        total = (ALL, month, measure, category)
        if total in keys:
            lines.append(((total, -1), *((k, 1) for k in sorted(members))))
    first, second = SAME_PEOPLE
    for state, month, measure, category in sorted(keys):
        twin = (state, month, second, category)
        if measure == first and category == ALL and twin in keys:
            lines.append((((state, month, first, ALL), 1), (twin, -1)))
    return lines


def suppress(counts: Mapping[Key, set[int]], *, minimum: int = MIN_CELL) -> list[IndicatorCell]:
    """Cells and totals from sets of people, small counts and their keys suppressed."""
    sized = {key: len(people) for key, people in with_totals(counts).items()}
    hidden = protect(sized, table_lines(sized), minimum=minimum)
    return [
        IndicatorCell(*key, people=None if key in hidden else sized[key])
        for key in sorted(sized, key=_reading_order)
    ]


def _reading_order(key: Key) -> tuple[str, str, bool, str, bool, str]:
    """Month, measure, then states and categories alphabetically, totals last."""
    state, month, measure, category = key
    return (month, measure, state == ALL, state, category == ALL, category)


def protect(values: Mapping[Key, int], lines: Sequence[Line], *, minimum: int) -> set[Key]:
    """The counts to hide: those under `minimum`, and enough others that none can be derived.

    Args:
        values: Every count to publish.
        lines: Equations between them (see :func:`table_lines`).
        minimum: The smallest count that may be published.
    """
    hidden = {key for key, value in values.items() if value < minimum}

    def cost(key: Key) -> tuple[int, bool, Key]:
        # Hide the smallest count; of two the same, a cell rather than a total.
        return (values[key], ALL in (key[0], key[3]), key)

    by_key: dict[Key, list[Line]] = defaultdict(list)
    for line in lines:
        for key, _ in line:
            by_key[key].append(line)
    while True:
        changed = True
        while changed:
            changed = False
            for line in lines:
                unknown = [key for key, _ in line if key in hidden]
                if len(unknown) == 1:
                    shown = [key for key, _ in line if key not in hidden]
                    if shown:
                        hidden.add(min(shown, key=cost))
                        changed = True
        exposed = derivable(lines, hidden)
        if not exposed:
            return hidden
        nearest = _nearest_published(min(exposed, key=cost), by_key, hidden, cost)
        if nearest is None:
            # Nothing published is linked to it: its "value" is only what the equations
            # force, and nothing more can be hidden to change that.
            return hidden
        hidden.add(nearest)


def _nearest_published(
    start: Key,
    by_key: Mapping[Key, list[Line]],
    hidden: set[Key],
    cost: Callable[[Key], tuple[int, bool, Key]],
) -> Key | None:
    """The cheapest published count in the lines around `start`, searching outwards."""
    seen = {start}
    frontier = deque([start])
    while frontier:
        shown: set[Key] = set()
        for _ in range(len(frontier)):
            key = frontier.popleft()
            for line in by_key.get(key, []):
                for other, _ in line:
                    if other in seen:
                        continue
                    seen.add(other)
                    if other in hidden:
                        frontier.append(other)
                    else:
                        shown.add(other)
        if shown:
            return min(shown, key=cost)
    return None


def derivable(lines: Sequence[Line], hidden: set[Key]) -> set[Key]:
    """The hidden counts that the lines fix, given every count not hidden.

    Exact: integer Gaussian elimination to reduced row echelon form over the hidden
    counts. A hidden count is fixed exactly when it is a pivot whose row has no other
    hidden count left in it.
    """
    index: dict[Key, int] = {}
    names: list[Key] = []
    for key in sorted(hidden):
        index[key] = len(names)
        names.append(key)
    pivots: dict[int, dict[int, int]] = {}
    for line in lines:
        row = {index[key]: coef for key, coef in line if key in index}
        if not row:
            continue
        # Pivot rows are kept reduced (no other pivot in them), so cancelling one pivot
        # never brings another back.
        for column in [c for c in row if c in pivots]:
            row = _eliminate(row, pivots[column], column)
        if not row:
            continue
        column = min(row)
        for other, pivot_row in pivots.items():
            if column in pivot_row:
                pivots[other] = _eliminate(pivot_row, row, column)
        pivots[column] = row
    return {names[column] for column, row in pivots.items() if len(row) == 1}


def _eliminate(row: dict[int, int], pivot_row: dict[int, int], column: int) -> dict[int, int]:
    """`row` with `column` cancelled by a multiple of `pivot_row`, kept in lowest terms."""
    a, b = pivot_row[column], row[column]
    merged = {c: v * a for c, v in row.items()}
    for c, v in pivot_row.items():
        merged[c] = merged.get(c, 0) - v * b
    merged = {c: v for c, v in merged.items() if v}
    divisor = math.gcd(*merged.values()) if merged else 1
    return {c: v // divisor for c, v in merged.items()}


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


MEASURE_TITLES = {
    "screening_band": "Screening results by band",
    "need": "Needs referred",
    "referral_outcome": "Where referrals stand",
}


@dataclass(frozen=True)
class IndicatorTable:
    """One measure in one month as planners read it: states by categories, with totals."""

    month: str
    measure: str
    states: tuple[str, ...]  # "all" last
    categories: tuple[str, ...]  # "all" last
    people: Mapping[tuple[str, str], int | None]

    @property
    def title(self) -> str:
        """What the table counts, in words."""
        return MEASURE_TITLES.get(self.measure, self.measure.replace("_", " "))

    def shown(self, state: str, category: str) -> str:
        """The count as published: a number, "suppressed", or "–" for nobody."""
        if (state, category) not in self.people:
            return "–"
        count = self.people[(state, category)]
        return SUPPRESSED if count is None else str(count)


def indicator_tables(cells: Iterable[IndicatorCell]) -> list[IndicatorTable]:
    """The published cells as one table per month and measure, newest month first."""
    grouped: dict[tuple[str, str], dict[tuple[str, str], int | None]] = defaultdict(dict)
    for cell in cells:
        grouped[(cell.month, cell.measure)][(cell.state, cell.category)] = cell.people
    tables = []
    for (month, measure), people in grouped.items():
        states = sorted({s for s, _ in people}, key=lambda s: (s == ALL, s))
        categories = sorted({c for _, c in people}, key=lambda c: (c == ALL, c))
        tables.append(IndicatorTable(month, measure, tuple(states), tuple(categories), people))
    order = list(MEASURE_TITLES)
    tables.sort(key=lambda t: (t.month, -order.index(t.measure) if t.measure in order else 0))
    return tables[::-1]


def indicators_csv(cells: Iterable[IndicatorCell]) -> str:
    """The indicators as CSV, totals included; a hidden count reads "suppressed"."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["state", "month", "measure", "category", "people"])
    for cell in cells:
        shown = SUPPRESSED if cell.people is None else str(cell.people)
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
