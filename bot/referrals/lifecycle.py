"""What a referral is for, where it goes, and how its state may change.

Pure: no database, no I/O. `bot.referrals.service` applies these rules to stored rows.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from bot.knowledge import ServiceType


class ReferralKind(StrEnum):
    """The need a referral answers, in the helpline's own words."""

    MENTAL_HEALTH = "mental_health"
    LEGAL_AID = "legal_aid"
    SHELTER = "shelter"
    HEALTH_INSURANCE = "health_insurance"
    RATION = "ration"
    WAGES = "wages"
    RESCUE = "rescue"
    LIVELIHOOD = "livelihood"


class ReferralState(StrEnum):
    """Where a referral stands."""

    CREATED = "created"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    COMPLETED = "completed"
    DECLINED = "declined"
    UNREACHABLE = "unreachable"
    CLOSED = "closed"


S = ReferralState
TRANSITIONS: dict[ReferralState, frozenset[ReferralState]] = {
    S.CREATED: frozenset({S.SENT, S.DECLINED, S.CLOSED}),
    # A person may tell us at once that the service already helped.
    S.SENT: frozenset({S.ACKNOWLEDGED, S.COMPLETED, S.DECLINED, S.UNREACHABLE, S.CLOSED}),
    S.ACKNOWLEDGED: frozenset({S.COMPLETED, S.DECLINED, S.CLOSED}),
    # Unreachable is not the end: a counsellor may find another way and send it again.
    S.UNREACHABLE: frozenset({S.SENT, S.ACKNOWLEDGED, S.COMPLETED, S.CLOSED}),
    S.COMPLETED: frozenset(),
    S.DECLINED: frozenset(),
    S.CLOSED: frozenset(),
}
FINAL_STATES = frozenset(state for state, nexts in TRANSITIONS.items() if not nexts)
PRIORITIES = ("urgent", "high", "normal")


class InvalidTransition(ValueError):
    """A change of state the lifecycle does not allow."""


def check_transition(current: str, wanted: str) -> ReferralState:
    """The wanted state, when the lifecycle allows moving there from `current`.

    Raises:
        InvalidTransition: the move is not allowed (or either state is unknown).
    """
    try:
        source, target = ReferralState(current), ReferralState(wanted)
    except ValueError as error:
        raise InvalidTransition(f"unknown state: {error}") from error
    if target not in TRANSITIONS[source]:
        raise InvalidTransition(f"a referral cannot go from {source} to {target}")
    return target


#: The directory's kind of office for each need.
SERVICE_TYPE: dict[ReferralKind, ServiceType] = {
    ReferralKind.MENTAL_HEALTH: ServiceType.DMHP,
    ReferralKind.LEGAL_AID: ServiceType.DLSA,
    ReferralKind.SHELTER: ServiceType.ONE_STOP_CENTRE,
    # Health cover and ration cards are claimed through legal aid when refused; the
    # directory has no office of their own yet.
    ReferralKind.HEALTH_INSURANCE: ServiceType.DLSA,
    ReferralKind.RATION: ServiceType.DLSA,
    ReferralKind.WAGES: ServiceType.LABOUR_OFFICE,
    ReferralKind.RESCUE: ServiceType.AHTU,
    ReferralKind.LIVELIHOOD: ServiceType.LABOUR_OFFICE,
}

#: The person's question (Rasa intent) that a referral may follow.
KIND_BY_INTENT: dict[str, ReferralKind] = {
    "ask_wages": ReferralKind.WAGES,
    "ask_legal_aid": ReferralKind.LEGAL_AID,
    "ask_compensation": ReferralKind.LEGAL_AID,
    "ask_shelter": ReferralKind.SHELTER,
    "ask_mental_health_support": ReferralKind.MENTAL_HEALTH,
    "ask_safe_migration": ReferralKind.RESCUE,
}

#: Days after the referral for each check-in: (did you reach them?, did it help?).
#: Urgent needs are asked about sooner; paperwork takes longer.
FOLLOWUP_DAYS: dict[ReferralKind, tuple[int, int]] = {
    ReferralKind.MENTAL_HEALTH: (3, 14),
    ReferralKind.LEGAL_AID: (3, 14),
    ReferralKind.SHELTER: (1, 7),
    ReferralKind.HEALTH_INSURANCE: (7, 30),
    ReferralKind.RATION: (7, 30),
    ReferralKind.WAGES: (3, 14),
    ReferralKind.RESCUE: (1, 3),
    ReferralKind.LIVELIHOOD: (7, 30),
}

#: What to carry, as the response whose text says it.
CARRY_RESPONSE: dict[ReferralKind, str] = {
    ReferralKind.WAGES: "utter_referral_carry_wages",
    ReferralKind.LIVELIHOOD: "utter_referral_carry_wages",
    ReferralKind.MENTAL_HEALTH: "utter_referral_carry_health",
    ReferralKind.HEALTH_INSURANCE: "utter_referral_carry_health",
}
DEFAULT_CARRY_RESPONSE = "utter_referral_carry_default"

IST = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
#: Check-ins go out between these hours, India Standard Time.
DAY_STARTS = dt.time(9, 0)
DAY_ENDS = dt.time(20, 0)


def is_daytime(moment: dt.datetime) -> bool:
    """Whether `moment` (timezone-aware) falls in daytime hours in India."""
    local = moment.astimezone(IST).time()
    return DAY_STARTS <= local < DAY_ENDS


def next_daytime(moment: dt.datetime) -> dt.datetime:
    """`moment` itself when it is daytime in India, else the next 09:00 IST (in UTC)."""
    if is_daytime(moment):
        return moment
    local = moment.astimezone(IST)
    day = local.date() if local.time() < DAY_STARTS else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, DAY_STARTS, tzinfo=IST).astimezone(dt.UTC)


def followup_times(
    kind: ReferralKind | str, created_at: dt.datetime
) -> list[tuple[str, dt.datetime]]:
    """When to ask "did you reach them?" and "did it help?", in daytime IST."""
    reached, helped = FOLLOWUP_DAYS[ReferralKind(kind)]
    return [
        ("reached", next_daytime(created_at + dt.timedelta(days=reached))),
        ("helped", next_daytime(created_at + dt.timedelta(days=helped))),
    ]
