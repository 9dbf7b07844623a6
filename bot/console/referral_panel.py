"""The referrals panel of a case: the person's referrals with their history, a form to
refer them, and the controls that move a referral through its lifecycle.

Shared by the case page (its context) and the console's referral routes
(`bot.console.referral_views`). Like `bot.console.service`, every function checks that
the viewer may see the case, refuses with a `Refusal` before changing anything, and
writes an audit entry, also when it refuses; run them inside `audited_session`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.console.audit import record
from bot.console.service import NotAllowed, Refusal, find_case
from bot.core.config import Settings
from bot.handoff.service import activate_handoff
from bot.outbound import DeliveryFailed, OutsideSessionWindow, send_to_person
from bot.referrals.lifecycle import (
    PRIORITIES,
    TRANSITIONS,
    InvalidTransition,
    ReferralKind,
    ReferralState,
    check_transition,
)
from bot.referrals.models import Referral
from bot.referrals.service import ServiceChoice, create_referral, move_referral, service_choices
from bot.referrals.slip import render_slip
from bot.storage.models import Conversation, Counsellor, Handoff, utcnow

#: Peer supporters do not see referrals; restricted ones are for supervisors only.
READERS = frozenset({"counsellor", "supervisor"})
MAX_REASON_CHARS = 128
MAX_NOTE_CHARS = 256

KIND_LABELS: dict[str, str] = {
    ReferralKind.MENTAL_HEALTH: "Mental health",
    ReferralKind.LEGAL_AID: "Legal aid",
    ReferralKind.SHELTER: "Shelter or a safe place",
    ReferralKind.HEALTH_INSURANCE: "Health insurance (PM-JAY)",
    ReferralKind.RATION: "Ration",
    ReferralKind.WAGES: "Wages / labour office",
    ReferralKind.RESCUE: "Rescue / anti-trafficking unit",
    ReferralKind.LIVELIHOOD: "Livelihood",
}
STATE_LABELS: dict[str, str] = {
    ReferralState.CREATED: "Created",
    ReferralState.SENT: "Sent",
    ReferralState.ACKNOWLEDGED: "Acknowledged",
    ReferralState.COMPLETED: "Completed",
    ReferralState.DECLINED: "Declined",
    ReferralState.UNREACHABLE: "Unreachable",
    ReferralState.CLOSED: "Closed",
}
#: What each move means, as the lifecycle control offers it.
MOVE_LABELS: dict[str, str] = {
    ReferralState.SENT: "Sent: the person has the slip",
    ReferralState.ACKNOWLEDGED: "Acknowledged: the person reached the service",
    ReferralState.COMPLETED: "Completed: the service helped",
    ReferralState.DECLINED: "Declined: the person or the service said no",
    ReferralState.UNREACHABLE: "Unreachable: the service could not be reached",
    ReferralState.CLOSED: "Closed: no longer needed",
}
VISIBILITY_LABELS = {"team": "The counselling team", "supervisors": "Supervisors only"}


class InvalidReferral(Refusal):
    """The referral form is incomplete or wrong; `errors` says what, field by field."""

    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))
        self.errors = errors


class ReferralNotFound(Refusal):
    """No such referral for this case's person, or not one the viewer may see."""

    status = 404


class ReferralConflict(Refusal):
    """The lifecycle does not allow the move, or someone moved the referral meanwhile."""

    status = 409


@dataclass
class ReferralForm:
    """What the counsellor entered in "Refer this person", as entered."""

    kind: str = ""  # chosen by the counsellor; no type is assumed
    service: str = ""
    priority: str = "normal"
    reason: str = ""
    consent_referral: bool = False
    consent_followup: bool = False
    visibility: str = "team"
    send_slip: bool = True


@dataclass(frozen=True)
class HistoryLine:
    """One change of a referral as the panel lists it."""

    at: dt.datetime
    from_state: str | None
    to_state: str
    actor: str
    note: str | None


@dataclass(frozen=True)
class ReferralView:
    """A referral in the panel: the facts, the history and the moves it allows."""

    id: int
    code: str
    kind: str
    service: str
    service_address: str | None
    service_phone: str | None
    service_level: str
    state: str
    priority: str
    reason: str
    consent_followup: bool
    visibility: str
    created_at: dt.datetime
    next_checkin: dt.datetime | None
    history: list[HistoryLine]
    moves: list[str]


@dataclass
class CreatedReferral:
    """The outcome of the form: the referral, whether the slip went, why not."""

    code: str
    visible: bool
    slip_sent: bool
    slip_problem: str | None = None


@dataclass
class PanelState:
    """What the panel shows besides the referrals: the form as entered, its errors, a notice."""

    form: ReferralForm = field(default_factory=ReferralForm)
    errors: dict[str, str] = field(default_factory=dict)
    move_errors: dict[int, str] = field(default_factory=dict)
    notice: tuple[str, str] | None = None  # (kind, text): ok, warn or error


def may_refer(viewer: Counsellor) -> bool:
    """Whether the viewer works with referrals at all (peer supporters do not)."""
    return viewer.role in READERS


def _visible(viewer: Counsellor, referral: Referral) -> bool:
    return referral.visibility == "team" or viewer.role == "supervisor"


def _place(conversation: Conversation) -> tuple[str | None, str | None]:
    return conversation.district, conversation.region_state


def choices_for(*, session: Session, conversation: Conversation, kind: str) -> list[ServiceChoice]:
    """The services a referral of `kind` may go to for this person (none for an unknown kind)."""
    if kind not in set(ReferralKind):
        return []
    district, state = _place(conversation)
    return service_choices(session=session, kind=kind, district=district, state=state)


def panel_context(
    *, session: Session, viewer: Counsellor, handoff: Handoff, state: PanelState | None = None
) -> dict[str, Any]:
    """The panel's template context (empty for viewers who do not work with referrals)."""
    if not may_refer(viewer):
        return {"referral_panel": None}
    state = state or PanelState()
    conversation = handoff.conversation
    referrals = [
        r
        for r in session.scalars(
            select(Referral)
            .where(Referral.contact_id == conversation.contact_id)
            .order_by(Referral.id.desc())
        )
        if _visible(viewer, r)
    ]
    names = _actor_names(session, referrals)
    district, region = _place(conversation)
    return {
        "referral_panel": {
            "handoff_id": handoff.id,
            "referrals": [_view(r, names) for r in referrals],
            "form": state.form,
            "errors": state.errors,
            "move_errors": state.move_errors,
            "notice": state.notice,
            "choices": choices_for(
                session=session, conversation=conversation, kind=state.form.kind
            ),
            "district": district,
            "region_state": region,
            "holds": handoff.counsellor_id == viewer.id and handoff.state in ("claimed", "active"),
            "kinds": KIND_LABELS,
            "priorities": PRIORITIES,
            "visibilities": VISIBILITY_LABELS,
            "states": STATE_LABELS,
            "moves": MOVE_LABELS,
            "max_reason": MAX_REASON_CHARS,
            "max_note": MAX_NOTE_CHARS,
        }
    }


def _actor_names(session: Session, referrals: list[Referral]) -> dict[str, str]:
    ids = {
        int(event.actor.split(":", 1)[1])
        for referral in referrals
        for event in referral.events
        if event.actor.startswith("counsellor:") and event.actor.split(":", 1)[1].isdigit()
    }
    if not ids:
        return {}
    rows = session.execute(
        select(Counsellor.id, Counsellor.display_name).where(Counsellor.id.in_(ids))
    ).all()
    return {f"counsellor:{row.id}": row.display_name for row in rows}


def actor_label(actor: str, names: dict[str, str]) -> str:
    """Who made a change, in words: a counsellor's name, the bot, the person, the check-ins."""
    if actor in names:
        return names[actor]
    if actor.startswith("counsellor:"):
        return "a former counsellor"
    if actor == "bot" or actor.startswith("bot:"):
        return "the bot"
    if actor == "person":
        return "the person (check-in reply)"
    if actor == "followups":
        return "check-ins"
    return actor


def _view(referral: Referral, names: dict[str, str]) -> ReferralView:
    due = [f.due_at for f in referral.followups if f.status == "due"]
    return ReferralView(
        id=referral.id,
        code=referral.code,
        kind=referral.kind,
        service=referral.service,
        service_address=referral.service_address,
        service_phone=referral.service_phone,
        service_level=referral.service_level,
        state=referral.state,
        priority=referral.priority,
        reason=referral.reason,
        consent_followup=referral.consent_followup,
        visibility=referral.visibility,
        created_at=referral.created_at,
        next_checkin=min(due) if due else None,
        history=[
            HistoryLine(
                at=e.at,
                from_state=e.from_state,
                to_state=e.to_state,
                actor=actor_label(e.actor, names),
                note=e.note,
            )
            for e in referral.events
        ],
        moves=[s.value for s in ReferralState if s in TRANSITIONS[ReferralState(referral.state)]],
    )


def _refuse(
    session: Session, viewer: Counsellor, action: str, target_id: int, error: Refusal
) -> Refusal:
    record(
        session=session,
        actor=viewer.username,
        action=f"{action}.refused",
        target_type="referral" if action == "referral.state" else "handoff",
        target_id=target_id,
        detail=str(error)[:512],
    )
    return error


def _case_for_referrals(
    *, session: Session, viewer: Counsellor, handoff_id: int, action: str
) -> Handoff:
    handoff = find_case(session=session, viewer=viewer, handoff_id=handoff_id, action=action)
    if not may_refer(viewer):
        raise _refuse(
            session,
            viewer,
            action,
            handoff_id,
            NotAllowed("referrals are for counsellors and supervisors"),
        )
    return handoff


def check_form(
    *, session: Session, conversation: Conversation, form: ReferralForm
) -> tuple[dict[str, str], ServiceChoice | None]:
    """What is wrong with the form, field by field, and the chosen service when it is right."""
    errors: dict[str, str] = {}
    chosen = None
    if form.kind not in set(ReferralKind):
        errors["kind"] = "Choose what the referral is for."
    else:
        choices = choices_for(session=session, conversation=conversation, kind=form.kind)
        chosen = next((c for c in choices if c.key == form.service), None)
        if chosen is None:
            errors["service"] = (
                "That service is not in the directory for this person's place and this "
                "type of referral. Choose one from the list."
            )
    if form.priority not in PRIORITIES:
        errors["priority"] = "Choose urgent, high or normal."
    reason = form.reason.strip()
    if not reason:
        errors["reason"] = "Say in a few words what the referral is for."
    elif len(reason) > MAX_REASON_CHARS:
        errors["reason"] = f"Keep the reason to {MAX_REASON_CHARS} characters (no story)."
    if form.visibility not in VISIBILITY_LABELS:
        errors["visibility"] = "Choose who may see the referral."
    if not form.consent_referral:
        errors["consent_referral"] = (
            "Ask the person first: a referral is made only when they agree to it."
        )
    return errors, chosen


def create_for_case(
    *, session: Session, settings: Settings, viewer: Counsellor, handoff_id: int, form: ReferralForm
) -> CreatedReferral:
    """Refer the case's person as the form says; send the slip when the viewer holds the case.

    Raises:
        InvalidReferral: the form is incomplete or wrong (nothing is created).
    """
    handoff = _case_for_referrals(
        session=session, viewer=viewer, handoff_id=handoff_id, action="referral.create"
    )
    conversation = handoff.conversation
    errors, chosen = check_form(session=session, conversation=conversation, form=form)
    if errors or chosen is None:
        raise _refuse(session, viewer, "referral.create", handoff_id, InvalidReferral(errors))
    actor = f"counsellor:{viewer.id}"
    referral = create_referral(
        session=session,
        conversation=conversation,
        kind=form.kind,
        reason=form.reason.strip(),
        created_by=actor,
        consent_followup=form.consent_followup,
        priority=form.priority,
        visibility=form.visibility,
        service=chosen,
    )
    created = CreatedReferral(
        code=referral.code, visible=_visible(viewer, referral), slip_sent=False
    )
    holds = handoff.counsellor_id == viewer.id and handoff.state in ("claimed", "active")
    if form.send_slip and not holds:
        created.slip_problem = "only the counsellor who holds the case writes to the person"
    elif form.send_slip:
        text = render_slip(referral, referral.language or conversation.language)
        try:
            send_to_person(
                session=session,
                settings=settings,
                conversation=conversation,
                text=text,
                author="counsellor",
            )
        except OutsideSessionWindow:
            created.slip_problem = (
                "the person last wrote more than 24 hours ago, and WhatsApp now allows only "
                "an approved template"
            )
        except DeliveryFailed:
            created.slip_problem = "Twilio did not accept the message"
        else:
            move_referral(
                session=session, referral=referral, to_state="sent", actor=actor, note="slip"
            )
            activate_handoff(session=session, handoff=handoff, actor=viewer.username)
            created.slip_sent = True
    consent = "referral" + (", check-ins" if form.consent_followup else "")
    record(
        session=session,
        actor=viewer.username,
        action="referral.create",
        target_type="referral",
        target_id=referral.id,
        detail=f"case {handoff_id}: {referral.kind} -> {referral.service}; consent: {consent}; "
        f"slip {'sent' if created.slip_sent else 'not sent'}",
    )
    return created


def move_for_case(
    *,
    session: Session,
    viewer: Counsellor,
    handoff_id: int,
    referral_id: int,
    to_state: str,
    seen_state: str,
    note: str,
    now: dt.datetime | None = None,
) -> Referral:
    """Move one of the case's person's referrals, if the lifecycle allows it.

    `seen_state` is the state the counsellor saw: when someone moved the referral
    meanwhile, the move is refused rather than applied to a state they did not see.

    Raises:
        ReferralNotFound: not a referral of this person that the viewer may see.
        ReferralConflict: the move is not allowed, or the referral changed meanwhile.
    """
    handoff = _case_for_referrals(
        session=session, viewer=viewer, handoff_id=handoff_id, action="referral.state"
    )
    referral = session.get(Referral, referral_id)
    if (
        referral is None
        or referral.contact_id != handoff.conversation.contact_id
        or not _visible(viewer, referral)
    ):
        raise _refuse(
            session, viewer, "referral.state", referral_id, ReferralNotFound("no such referral")
        )
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise _refuse(
            session,
            viewer,
            "referral.state",
            referral_id,
            ReferralConflict(f"keep the note to {MAX_NOTE_CHARS} characters"),
        )
    if to_state not in MOVE_LABELS:
        raise _refuse(
            session, viewer, "referral.state", referral_id, ReferralConflict("choose a new state")
        )
    try:
        check_transition(seen_state, to_state)
    except InvalidTransition as error:
        raise _refuse(
            session, viewer, "referral.state", referral_id, ReferralConflict(str(error))
        ) from error
    now = now or utcnow()
    # Only from the state the counsellor saw; the row stays locked until the commit, so a
    # colleague's move at the same moment waits and then finds the state changed.
    claimed = session.execute(
        update(Referral)
        .where(Referral.id == referral.id, Referral.state == seen_state)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(referral)
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise _refuse(
            session,
            viewer,
            "referral.state",
            referral_id,
            ReferralConflict(
                f"someone changed this referral meanwhile: it is now {referral.state}"
            ),
        )
    move_referral(
        session=session,
        referral=referral,
        to_state=to_state,
        actor=f"counsellor:{viewer.id}",
        note=note or None,
        now=now,
    )
    record(
        session=session,
        actor=viewer.username,
        action="referral.state",
        target_type="referral",
        target_id=referral.id,
        detail=f"case {handoff_id}: {seen_state} -> {to_state}",
    )
    return referral
