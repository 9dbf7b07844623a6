"""The supervisor's dashboard: volumes, waiting times, outcomes, screening and referrals."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.console.charts import Bar, Chart
from bot.console.service import OUTCOMES
from bot.handoff.queue import aware
from bot.handoff.summary import reflect_table
from bot.language import LANGUAGE_NAMES
from bot.storage.models import Conversation, Handoff, utcnow

PERIODS = {1: "Last 24 hours", 7: "Last 7 days", 30: "Last 30 days"}
WAIT_BUCKETS: list[tuple[str, dt.timedelta]] = [
    ("under 1 min", dt.timedelta(minutes=1)),
    ("1–5 min", dt.timedelta(minutes=5)),
    ("5–15 min", dt.timedelta(minutes=15)),
    ("15–60 min", dt.timedelta(hours=1)),
    ("over 1 hour", dt.timedelta.max),
]
PRIORITIES = ("urgent", "high", "normal")


@dataclass(frozen=True)
class Headline:
    """One number at the top of the dashboard."""

    label: str
    value: str


@dataclass(frozen=True)
class Dashboard:
    """What the supervisor sees for one period."""

    days: int
    period: str
    headlines: list[Headline]
    charts: list[Chart]


def language_label(code: str | None) -> str:
    """'বাংলা (Bengali)' for 'bn'; 'not known' when there is no language yet."""
    if code in LANGUAGE_NAMES:
        english, native = LANGUAGE_NAMES[code]
        return english if native == english else f"{native} ({english})"
    return "not known"


def minutes(duration: dt.timedelta) -> str:
    """A duration as people say it: 'under 1 min', '12 min', '2 h 5 min'."""
    seconds = int(duration.total_seconds())
    if seconds < 60:
        return "under 1 min"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def build_dashboard(*, session: Session, days: int, now: dt.datetime | None = None) -> Dashboard:
    """Counts and charts for the last `days` days."""
    now = now or utcnow()
    since = now - dt.timedelta(days=days)

    by_language = session.execute(
        select(Conversation.language, func.count())
        .where(Conversation.started_at >= since)
        .group_by(Conversation.language)
    ).all()
    by_channel = session.execute(
        select(Conversation.channel, func.count())
        .where(Conversation.started_at >= since)
        .group_by(Conversation.channel)
    ).all()
    handoffs = session.execute(
        select(
            Handoff.priority,
            Handoff.state,
            Handoff.outcome,
            Handoff.created_at,
            Handoff.claimed_at,
            func.coalesce(Handoff.language, Conversation.language),
        )
        .join(Conversation, Handoff.conversation_id == Conversation.id)
        .where(Handoff.created_at >= since)
    ).all()
    waiting_now = session.scalars(select(Handoff.created_at).where(Handoff.state == "queued")).all()

    waits: list[dt.timedelta] = []
    waits_by_language: dict[str | None, list[dt.timedelta]] = defaultdict(list)
    priorities: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for priority, state, outcome, created, claimed, language in handoffs:
        priorities[priority] += 1
        if state == "closed" and outcome:
            outcomes[outcome] += 1
        if claimed is not None:
            wait = max(dt.timedelta(0), aware(claimed) - aware(created))
            waits.append(wait)
            waits_by_language[language].append(wait)
    buckets: Counter[str] = Counter()
    for wait in waits:
        buckets[next(label for label, limit in WAIT_BUCKETS if wait < limit)] += 1
    longest_now = max((now - aware(created) for created in waiting_now), default=None)
    median = _median(waits) if waits else None

    charts = [
        Chart(
            key="languages",
            title="Conversations by language",
            bars=_sorted_bars((language_label(code), count) for code, count in by_language),
        ),
        Chart(
            key="channels",
            title="Conversations by channel",
            bars=_sorted_bars((channel, count) for channel, count in by_channel),
            tone="calm",
        ),
        Chart(
            key="priorities",
            title="Handoffs by priority",
            bars=[Bar(p, priorities[p]) for p in PRIORITIES if priorities[p]],
            tone="warm",
        ),
        Chart(
            key="waits",
            title="Time from handoff to a counsellor claiming it",
            description="How many cases were claimed within each waiting time.",
            bars=[Bar(label, buckets[label]) for label, _ in WAIT_BUCKETS if buckets[label]],
            tone="warm",
        ),
        Chart(
            key="median-wait",
            title="Median wait by language",
            bars=[
                Bar(
                    language_label(code),
                    _median(values).total_seconds() / 60,
                    minutes(_median(values)),
                )
                for code, values in sorted(
                    waits_by_language.items(), key=lambda item: language_label(item[0])
                )
            ],
            tone="warm",
        ),
        Chart(
            key="outcomes",
            title="How cases ended",
            bars=_sorted_bars((OUTCOMES.get(o, o), count) for o, count in outcomes.items()),
            tone="calm",
        ),
    ]
    charts += _feature_charts(session=session, since=since)
    headlines = [
        Headline("Conversations", str(sum(count for _, count in by_language))),
        Headline("Handoffs", str(len(handoffs))),
        Headline("Median wait", minutes(median) if median is not None else "—"),
        Headline("Waiting now", str(len(waiting_now))),
        Headline("Longest wait now", minutes(longest_now) if longest_now is not None else "—"),
    ]
    return Dashboard(
        days=days, period=PERIODS.get(days, f"Last {days} days"), headlines=headlines, charts=charts
    )


def _median(values: list[dt.timedelta]) -> dt.timedelta:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _sorted_bars(pairs: Iterable[tuple[str, int]]) -> list[Bar]:
    return [Bar(str(label), count) for label, count in sorted(pairs, key=lambda p: -p[1])]


def _feature_charts(*, session: Session, since: dt.datetime) -> list[Chart]:
    """Screening bands and referral states, when those features' tables exist."""
    charts = []
    for table_name, column, key, title in (
        ("screening_results", "band", "screening", "Screening results by band"),
        ("referrals", "state", "referrals", "Referrals by state"),
    ):
        table = reflect_table(session, table_name, (column,))
        if table is None:
            continue
        query = select(table.c[column], func.count()).group_by(table.c[column])
        if "created_at" in table.c:
            query = query.where(table.c.created_at >= since)
        rows = session.execute(query).all()
        charts.append(Chart(key=key, title=title, bars=_sorted_bars((str(v), n) for v, n in rows)))
    return charts
