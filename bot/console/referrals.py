"""Referrals in the console: counsellors create and move them, export records with
consent; supervisors see anonymised indicators; partner NGOs get a CSV.

Two routers, linked in by the console's own modules: ``api_router`` under ``/api``
(JSON, bearer token or cookie) and ``pages_router`` under ``/console`` (the indicators
page and CSV downloads). Every read and change of a person's referral is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.audit import record
from bot.console.deps import ApiViewerDep, ConsoleSettingsDep, PageViewerDep, SigningKeyDep, Viewer
from bot.console.referral_panel import READERS
from bot.console.rendering import page
from bot.core.deps import SettingsDep
from bot.handoff.queue import visible_to
from bot.outbound import DeliveryFailed, NoConsent, OutsideSessionWindow, send_to_person
from bot.referrals.fhir import NoRecordConsent, export_bundle
from bot.referrals.indicators import (
    MIN_CELL,
    indicator_tables,
    indicators,
    indicators_csv,
    referrals_csv,
)
from bot.referrals.lifecycle import InvalidTransition, ReferralKind
from bot.referrals.models import Referral
from bot.referrals.service import create_referral, move_referral, record_consent
from bot.referrals.slip import render_slip
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, Handoff

api_router = APIRouter()
pages_router = APIRouter()


class ReferralOut(BaseModel):
    """A referral as the console shows it."""

    id: int
    code: str
    kind: str
    service: str
    service_address: str | None
    service_phone: str | None
    district: str | None
    state: str
    region_state: str | None
    priority: str
    reason: str
    consent_followup: bool
    visibility: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    slip_sent: bool = False


class NewReferral(BaseModel):
    """What a counsellor fills in to refer someone."""

    kind: ReferralKind
    # The person agreed to be referred (as the console's form asks): never without it.
    person_agreed: Literal[True]
    reason: str = Field(min_length=1, max_length=128)
    priority: Literal["urgent", "high", "normal"] = "normal"
    consent_followup: bool = False
    visibility: Literal["team", "supervisors"] = "team"
    send_slip: bool = True


class StateChange(BaseModel):
    """A move in the referral's lifecycle."""

    state: str
    note: str | None = Field(default=None, max_length=256)


class ConsentIn(BaseModel):
    """The person's consent to hand their records on, as they gave it."""

    scopes: list[Literal["referrals", "screening"]] = Field(min_length=1)
    recipient: str | None = Field(default=None, max_length=256)


def _out(referral: Referral, **extra: Any) -> ReferralOut:
    values = {
        name: getattr(referral, name) for name in ReferralOut.model_fields if name != "slip_sent"
    }
    return ReferralOut(**values, **extra)


def _reader(viewer: Viewer) -> None:
    if viewer.role not in READERS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "referrals are for counsellors")


def _sees_person(session: Session, viewer: Viewer, contact_id: int) -> None:
    """404 unless the viewer may see a case of this person (supervisors see every case).

    The same rule as the queue's: a person's records are for the counsellors working
    their case, not for anyone with an account.
    """
    visible = session.scalar(
        select(Handoff.id)
        .join(Conversation, Handoff.conversation_id == Conversation.id)
        .where(Conversation.contact_id == contact_id, visible_to(viewer.counsellor))
        .limit(1)
    )
    if visible is None:
        record(
            session=session,
            actor=viewer.counsellor.username,
            action="person.denied",
            target_type="contact",
            target_id=contact_id,
        )
        session.commit()
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such person among your cases")


def _visible(viewer: Viewer, referral: Referral) -> bool:
    return referral.visibility == "team" or viewer.role == "supervisor"


@api_router.get("/referrals", summary="Referrals, newest first", response_model=list[ReferralOut])
def list_referrals(
    viewer: ApiViewerDep,
    settings: SettingsDep,
    state: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[ReferralOut]:
    """Referrals the viewer may see, filtered by state."""
    _reader(viewer)
    with session_scope(settings.database_url) as session:
        query = select(Referral).order_by(Referral.id.desc()).limit(limit)
        if state:
            query = query.where(Referral.state == state)
        found = [_out(r) for r in session.scalars(query) if _visible(viewer, r)]
        record(
            session=session,
            actor=viewer.counsellor.username,
            action="referrals.list",
            target_type="referral",
            detail=state,
        )
        return found


@api_router.post(
    "/conversations/{conversation_id}/referrals",
    summary="Refer the person of a conversation",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralOut,
)
def create_from_console(
    conversation_id: int, body: NewReferral, viewer: ApiViewerDep, settings: SettingsDep
) -> ReferralOut:
    """Create a referral to the nearest service, and send the slip when the window allows."""
    _reader(viewer)
    actor = f"counsellor:{viewer.counsellor.id}"
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")
        _sees_person(session, viewer, conversation.contact_id)
        referral = create_referral(
            session=session,
            conversation=conversation,
            kind=body.kind,
            reason=body.reason,
            created_by=actor,
            consent_followup=body.consent_followup,
            priority=body.priority,
            visibility=body.visibility,
        )
        sent = False
        if body.send_slip:
            text = render_slip(referral, referral.language or conversation.language)
            try:
                send_to_person(
                    session=session,
                    settings=settings,
                    conversation=conversation,
                    text=text,
                    author="counsellor",
                )
                move_referral(
                    session=session, referral=referral, to_state="sent", actor=actor, note="slip"
                )
                sent = True
            except (OutsideSessionWindow, DeliveryFailed, NoConsent):
                sent = False  # stays "created"; the counsellor sees the slip was not sent
        record(
            session=session,
            actor=viewer.counsellor.username,
            action="referral.create",
            target_type="referral",
            target_id=referral.id,
            detail=f"{referral.kind} -> {referral.service}",
        )
        return _out(referral, slip_sent=sent)


@api_router.post(
    "/referrals/{referral_id}/state", summary="Move a referral", response_model=ReferralOut
)
def change_state(
    referral_id: int, body: StateChange, viewer: ApiViewerDep, settings: SettingsDep
) -> ReferralOut:
    """Move a referral in its lifecycle; 409 when the lifecycle does not allow it."""
    _reader(viewer)
    with session_scope(settings.database_url) as session:
        referral = session.get(Referral, referral_id)
        if referral is not None:
            _sees_person(session, viewer, referral.contact_id)
        if referral is None or not _visible(viewer, referral):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such referral")
        try:
            move_referral(
                session=session,
                referral=referral,
                to_state=body.state,
                actor=f"counsellor:{viewer.counsellor.id}",
                note=body.note,
            )
        except InvalidTransition as error:
            raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from error
        record(
            session=session,
            actor=viewer.counsellor.username,
            action="referral.state",
            target_type="referral",
            target_id=referral.id,
            detail=body.state,
        )
        return _out(referral)


@api_router.post(
    "/contacts/{contact_id}/record-consent",
    summary="Record consent to hand records on",
    status_code=status.HTTP_201_CREATED,
)
def consent_to_share(
    contact_id: int, body: ConsentIn, viewer: ApiViewerDep, settings: SettingsDep
) -> dict[str, Any]:
    """Record what the person agreed may travel, and to whom."""
    _reader(viewer)
    with session_scope(settings.database_url) as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such person")
        _sees_person(session, viewer, contact_id)
        consent = record_consent(
            session=session,
            contact=contact,
            scopes=list(body.scopes),
            recorded_by=f"counsellor:{viewer.counsellor.id}",
            recipient=body.recipient,
        )
        record(
            session=session,
            actor=viewer.counsellor.username,
            action="record_consent",
            target_type="contact",
            target_id=contact_id,
            detail=",".join(consent.scopes),
        )
        return {"id": consent.id, "scopes": consent.scopes}


@api_router.get("/contacts/{contact_id}/fhir", summary="The person's records as FHIR R4")
def fhir_export(contact_id: int, viewer: ApiViewerDep, settings: SettingsDep) -> dict[str, Any]:
    """A FHIR R4 Bundle; 403 when the person has not agreed to their records travelling."""
    _reader(viewer)
    with session_scope(settings.database_url) as session:
        _sees_person(session, viewer, contact_id)
        try:
            bundle = export_bundle(session=session, contact_id=contact_id)
        except NoRecordConsent as error:
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(error)) from error
        record(
            session=session,
            actor=viewer.counsellor.username,
            action="fhir.export",
            target_type="contact",
            target_id=contact_id,
        )
        return bundle


@pages_router.get("/referrals.csv")
def partner_csv(viewer: PageViewerDep, settings: SettingsDep) -> PlainTextResponse:
    """Referrals for partner NGOs: codes, needs, services, places and outcomes only."""
    _reader(viewer)
    with session_scope(settings.database_url) as session:
        rows = [
            r
            for r in session.scalars(select(Referral).order_by(Referral.id))
            if r.visibility == "team"
        ]
        record(
            session=session,
            actor=viewer.counsellor.username,
            action="referrals.csv",
            target_type="referral",
            detail=f"{len(rows)} rows",
        )
        text = referrals_csv(rows)
    return _csv(text, "sahay-referrals.csv")


@pages_router.get("/indicators.csv")
def indicators_download(viewer: PageViewerDep, settings: SettingsDep) -> PlainTextResponse:
    """Anonymised indicators by state and month, small counts and their keys suppressed."""
    if viewer.role != "supervisor":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "indicators are for supervisors")
    with session_scope(settings.database_url) as session:
        text = indicators_csv(indicators(session=session))
    return _csv(text, "sahay-indicators.csv")


@pages_router.get("/indicators")
def indicators_page(
    request: Request,
    viewer: PageViewerDep,
    settings: SettingsDep,
    key: SigningKeyDep,
    console: ConsoleSettingsDep,
) -> HTMLResponse:
    """The supervisors' page of anonymised indicators, with the CSV to download."""
    from bot.console.views import _base  # the console's page context; imported late (cycle)

    context = _base(request, viewer, key, console)
    if viewer.role != "supervisor":
        return page(request, "forbidden.html", context, status.HTTP_403_FORBIDDEN)
    with session_scope(settings.database_url) as session:
        cells = indicators(session=session)
        record(
            session=session,
            actor=viewer.counsellor.username,
            action="indicators.view",
            target_type="dashboard",
        )
    tables = indicator_tables(cells)
    return page(request, "indicators.html", {**context, "tables": tables, "min_cell": MIN_CELL})


def _csv(text: str, name: str) -> PlainTextResponse:
    return PlainTextResponse(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
