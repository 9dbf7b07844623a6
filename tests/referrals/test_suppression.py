"""Complementary suppression: from the published indicators, no hidden count can be worked out.

The attacker here reads only what is published (the CSV) and knows how the tables are
built: each row and column adds up to its total, and needs and outcomes count the same
people. It tries plain subtraction, then exact linear algebra over every equation at once.
The data are built so that those equations hold exactly (each person once per row), which
is the attacker's best case.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections import defaultdict
from collections.abc import Iterable
from fractions import Fraction

import pytest

from bot.core.config import Settings
from bot.referrals.indicators import (
    ALL,
    MIN_CELL,
    SUPPRESSED,
    IndicatorCell,
    indicator_tables,
    indicators,
    indicators_csv,
    suppress,
)
from bot.referrals.service import create_referral, move_referral
from bot.storage.db import session_scope
from bot.storage.models import Conversation
from tests.referrals.conftest import MORNING, add_person

Key = tuple[str, str, str, str]
Equation = list[tuple[Key, int]]
KINDS = ("wages", "legal_aid", "shelter", "mental_health")
OUTCOMES = ("created", "sent", "acknowledged", "completed")
BANDS = ("phq9:minimal", "phq9:mild", "phq9:moderate", "gad7:mild", "gad7:severe")


def read_csv(text: str) -> dict[Key, int | None]:
    """The published counts: a number, or None where the CSV says "suppressed"."""
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["state", "month", "measure", "category", "people"]
    return {
        (state, month, measure, category): None if people == SUPPRESSED else int(people)
        for state, month, measure, category, people in rows[1:]
    }


def equations(published: dict[Key, int | None]) -> list[Equation]:
    """What the attacker knows: rows and columns add up to totals; needs and outcomes agree."""
    rows: dict[tuple[str, str, str], list[Key]] = defaultdict(list)
    columns: dict[tuple[str, str, str], list[Key]] = defaultdict(list)
    for key in published:
        state, month, measure, category = key
        if category != ALL:
            rows[(state, month, measure)].append(key)
        if state != ALL:
            columns[(category, month, measure)].append(key)
    found: list[Equation] = []
    for (state, month, measure), members in rows.items():
        found.append([((state, month, measure, ALL), -1), *((m, 1) for m in members)])
    for (category, month, measure), members in columns.items():
        found.append([((ALL, month, measure, category), -1), *((m, 1) for m in members)])
    for state, month, measure, category in published:
        twin = (state, month, "referral_outcome", ALL)
        if measure == "need" and category == ALL and twin in published:
            found.append([((state, month, "need", ALL), 1), (twin, -1)])
    return found


def subtraction_attack(published: dict[Key, int | None]) -> dict[Key, int]:
    """Hidden counts recovered by subtraction: one unknown in an equation, repeated."""
    known = {key: value for key, value in published.items() if value is not None}
    recovered: dict[Key, int] = {}
    progress = True
    while progress:
        progress = False
        for equation in equations(published):
            unknown = [(key, coef) for key, coef in equation if key not in known]
            if len(unknown) == 1:
                [(key, coef)] = unknown
                rest = sum(c * known[k] for k, c in equation if k in known)
                known[key] = recovered[key] = -rest * coef  # coef is +1 or -1
                progress = True
    return recovered


def algebra_attack(published: dict[Key, int | None]) -> dict[Key, Fraction]:
    """Hidden counts fixed by any combination of the equations (dense Gauss-Jordan)."""
    unknown = sorted(key for key, value in published.items() if value is None)
    column = {key: i for i, key in enumerate(unknown)}
    matrix = []
    for equation in equations(published):
        row = [Fraction(0)] * (len(unknown) + 1)
        for key, coef in equation:
            if key in column:
                row[column[key]] += coef
            else:
                value = published[key]
                assert value is not None
                row[-1] -= coef * value
        if any(row[:-1]):
            matrix.append(row)
    pivot_row = 0
    pivots = []
    for col in range(len(unknown)):
        found = next((r for r in range(pivot_row, len(matrix)) if matrix[r][col] != 0), None)
        if found is None:
            continue
        matrix[pivot_row], matrix[found] = matrix[found], matrix[pivot_row]
        lead = matrix[pivot_row][col]
        matrix[pivot_row] = [v / lead for v in matrix[pivot_row]]
        for r in range(len(matrix)):
            if r != pivot_row and matrix[r][col] != 0:
                factor = matrix[r][col]
                matrix[r] = [
                    a - factor * b for a, b in zip(matrix[r], matrix[pivot_row], strict=True)
                ]
        pivots.append((pivot_row, col))
        pivot_row += 1
    fixed = {}
    for r, col in pivots:
        if all(matrix[r][c] == 0 for c in range(len(unknown)) if c != col):
            fixed[unknown[col]] = matrix[r][-1]
    return fixed


def primary_only(cells: Iterable[IndicatorCell]) -> dict[Key, int | None]:
    """What the table would have been with small counts hidden and nothing else."""
    published = {}
    for cell in cells:
        key = (cell.state, cell.month, cell.measure, cell.category)
        published[key] = cell.people
    return published


def random_counts(rng: random.Random) -> dict[Key, set[int]]:
    """People in a few states and months: each with one referral and one screening band."""
    counts: dict[Key, set[int]] = defaultdict(set)
    person = itertools.count()
    for month in ("2026-11", "2026-12")[: rng.randint(1, 2)]:
        for state in ("Kerala", "Delhi", "Odisha", "Bihar", "Assam")[: rng.randint(1, 5)]:
            kinds = rng.sample(KINDS, rng.randint(1, len(KINDS)))
            outcomes = rng.sample(OUTCOMES, rng.randint(1, len(OUTCOMES)))
            for _ in range(rng.choice([3, 8, 12, 20, 35, 60])):
                who = next(person)
                counts[(state, month, "need", rng.choice(kinds))].add(who)
                counts[(state, month, "referral_outcome", rng.choice(outcomes))].add(who)
            bands = rng.sample(BANDS, rng.randint(1, len(BANDS)))
            for _ in range(rng.choice([2, 9, 10, 15, 30])):
                counts[(state, month, "screening_band", rng.choice(bands))].add(next(person))
    return counts


def with_exact_sizes(counts: dict[Key, set[int]]) -> dict[Key, int]:
    """Every count, totals included, before any suppression."""
    exact: dict[Key, set[int]] = defaultdict(set)
    for (state, month, measure, category), who in counts.items():
        for key in (
            (state, month, measure, category),
            (state, month, measure, ALL),
            (ALL, month, measure, category),
            (ALL, month, measure, ALL),
        ):
            exact[key] |= who
    return {key: len(who) for key, who in exact.items()}


def test_the_recovery_attack_works_on_primary_suppression_alone() -> None:
    """The attack is real: with only small cells hidden, subtraction gives them away."""
    counts = {
        ("Kerala", "2026-12", "need", "wages"): set(range(0, 9)),
        ("Kerala", "2026-12", "need", "legal_aid"): set(range(100, 125)),
        ("Delhi", "2026-12", "need", "wages"): set(range(200, 230)),
        ("Delhi", "2026-12", "need", "legal_aid"): set(range(300, 340)),
    }
    exact = with_exact_sizes(counts)
    naive: dict[Key, int | None] = {
        key: None if size < MIN_CELL else size for key, size in exact.items()
    }
    assert subtraction_attack(naive) == {("Kerala", "2026-12", "need", "wages"): 9}

    published = read_csv(indicators_csv(suppress(counts)))
    assert published[("Kerala", "2026-12", "need", "wages")] is None
    assert subtraction_attack(published) == {}
    assert algebra_attack(published) == {}
    # The complement: the smallest count in the row and in the column, forming a loop.
    hidden = {key for key, value in published.items() if value is None}
    assert hidden == {
        ("Kerala", "2026-12", "need", "wages"),
        ("Kerala", "2026-12", "need", "legal_aid"),
        ("Delhi", "2026-12", "need", "wages"),
        ("Delhi", "2026-12", "need", "legal_aid"),
    }


def test_a_hidden_total_is_not_given_away_by_the_twin_measure() -> None:
    """Needs and outcomes count the same people: hiding one total hides the other."""
    counts = {
        ("Assam", "2026-12", "need", "wages"): set(range(0, 6)),
        ("Assam", "2026-12", "referral_outcome", "sent"): set(range(0, 6)),
        ("Kerala", "2026-12", "need", "wages"): set(range(10, 40)),
        ("Kerala", "2026-12", "referral_outcome", "sent"): set(range(10, 40)),
    }
    published = read_csv(indicators_csv(suppress(counts)))
    assert published[("Assam", "2026-12", "need", ALL)] is None
    assert published[("Assam", "2026-12", "referral_outcome", ALL)] is None
    assert subtraction_attack(published) == {}
    assert algebra_attack(published) == {}


@pytest.mark.parametrize("seed", range(150))
def test_no_hidden_count_can_be_worked_out_from_the_published_table(seed: int) -> None:
    rng = random.Random(seed)
    counts = random_counts(rng)
    exact = with_exact_sizes(counts)
    cells = suppress(counts)
    published = read_csv(indicators_csv(cells))
    assert published.keys() == exact.keys()

    # The equations the attacker uses really hold for these data.
    for equation in equations(exact):  # type: ignore[arg-type]
        assert sum(coef * exact[key] for key, coef in equation) == 0

    for key, size in exact.items():
        value = published[key]
        assert value is None or value == size  # nothing published is changed
        if size < MIN_CELL:
            assert value is None, key  # primary suppression, the boundary included
    assert subtraction_attack(published) == {}
    assert algebra_attack(published) == {}


def test_the_random_tables_do_exercise_the_attack() -> None:
    """Across the random tables, primary suppression alone leaks often: the tests above bite."""
    leaked = 0
    for seed in range(150):
        counts = random_counts(random.Random(seed))
        naive: dict[Key, int | None] = {
            key: None if size < MIN_CELL else size for key, size in with_exact_sizes(counts).items()
        }
        recovered = algebra_attack(naive)
        exact = with_exact_sizes(counts)
        assert all(exact[key] == value for key, value in recovered.items())
        leaked += bool(recovered)
    assert leaked > 50, leaked


def test_indicators_from_the_database_resist_the_attack(settings: Settings) -> None:
    """End to end: referrals stored, indicators read, CSV attacked."""
    number = itertools.count()
    plan = [("Kerala", "Ernakulam", "wages", 9), ("Kerala", "Ernakulam", "legal_aid", 14)]
    plan += [("Delhi", "New Delhi", "wages", 12), ("Delhi", "New Delhi", "legal_aid", 11)]
    for state, district, kind, how_many in plan:
        for _ in range(how_many):
            conversation_id = add_person(
                settings, phone=f"+91987650{next(number):04d}", district=district, state=state
            )
            with session_scope(settings.database_url) as session:
                conversation = session.get_one(Conversation, conversation_id)
                referral = create_referral(
                    session=session,
                    conversation=conversation,
                    kind=kind,
                    reason=f"ask_{kind}",
                    created_by="bot:test",
                    consent_followup=False,
                    now=MORNING,
                )
                move_referral(session=session, referral=referral, to_state="sent", actor="bot")
    with session_scope(settings.database_url) as session:
        cells = indicators(session=session)
    published = read_csv(indicators_csv(cells))
    assert published[("Kerala", "2026-12", "need", "wages")] is None
    assert published[("Kerala", "2026-12", "need", ALL)] == 23
    assert subtraction_attack(published) == {}
    assert algebra_attack(published) == {}
    [outcomes, needs] = [t for t in indicator_tables(cells) if t.measure != "screening_band"][::-1]
    assert needs.title == "Needs referred" and outcomes.title == "Where referrals stand"
    assert needs.shown("Kerala", "wages") == "suppressed"
    assert needs.shown("all", "all") == "46" and needs.shown("Kerala", "shelter") == "–"
