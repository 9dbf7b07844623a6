"""The case page's referral forms: refer the person, move a referral, list services.

htmx gets the referrals panel back (a fragment of `case.html`), with the form as entered
and what was wrong with it; without script, a good form redirects back to the case and
a bad one shows the whole page again with the messages. Never a 500 for a bad form.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.console import service
from bot.console.referral_panel import (
    CreatedReferral,
    InvalidReferral,
    PanelState,
    ReferralConflict,
    ReferralForm,
    ReferralNotFound,
    create_for_case,
    move_for_case,
    panel_context,
)
from bot.console.rendering import fragment
from bot.console.rendering import page as render
from bot.console.views import NOTICES, Notice, PageDep

router: APIRouter = APIRouter(include_in_schema=False)  # under the console's /console

# The case page's notices (`?notice=` after a form sent without script) include these.
NOTICES.update(
    referral_created=Notice(
        "referral_created", "ok", "Referral created, and the slip sent to the person."
    ),
    referral_saved=Notice(
        "referral_saved",
        "warn",
        "Referral saved, but the slip was not sent. Give the person its details another "
        "way, then mark it sent.",
    ),
    referral_no_slip=Notice("referral_no_slip", "ok", "Referral created. The slip was not sent."),
    referral_moved=Notice("referral_moved", "ok", "Referral updated."),
)


def _checked(value: str) -> bool:
    return value in ("yes", "on", "true", "1")


def _panel(page: PageDep, handoff_id: int, state: PanelState, status_code: int) -> Response:
    """The referrals panel (htmx) or the whole case page (a form sent without script)."""
    try:
        with service.audited_session(page.settings.database_url) as session:
            handoff = service.find_case(
                session=session,
                viewer=page.counsellor,
                handoff_id=handoff_id,
                action="referral.view",
            )
            panel = panel_context(
                session=session, viewer=page.counsellor, handoff=handoff, state=state
            )
            if page.htmx:
                # htmx swaps only successful answers: the messages travel with a 200.
                return fragment("case.html", "referrals", page.context(**panel))
            context = {**page.case(session, handoff), **panel}
    except service.CaseNotFound as error:  # taken out of the viewer's sight meanwhile
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from error
    return render(page.request, "case.html", context, status_code)


def _created_notice(created: CreatedReferral) -> tuple[str, str]:
    who = "" if created.visible else " Only supervisors can see it."
    if created.slip_sent:
        return "ok", f"Referral {created.code} created, and the slip sent to the person.{who}"
    if created.slip_problem is None:
        return "ok", f"Referral {created.code} created. The slip was not sent.{who}"
    return (
        "warn",
        f"Referral {created.code} saved, but the slip was not sent: {created.slip_problem}. "
        f"Give the person its details another way, then mark it sent.{who}",
    )


@router.post("/cases/{handoff_id}/referrals")
def create(
    handoff_id: int,
    page: PageDep,
    kind: Annotated[str, Form()] = "",
    service_key: Annotated[str, Form(alias="service")] = "",
    priority: Annotated[str, Form()] = "normal",
    reason: Annotated[str, Form()] = "",
    consent_referral: Annotated[str, Form()] = "",
    consent_followup: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = "team",
    send_slip: Annotated[str, Form()] = "",
) -> Response:
    """Refer the case's person: type, service near them, priority, reason, consent."""
    form = ReferralForm(
        kind=kind,
        service=service_key,
        priority=priority,
        reason=reason,
        consent_referral=_checked(consent_referral),
        consent_followup=_checked(consent_followup),
        visibility=visibility,
        send_slip=_checked(send_slip),
    )
    try:
        with service.audited_session(page.settings.database_url) as session:
            created = create_for_case(
                session=session,
                settings=page.settings,
                viewer=page.counsellor,
                handoff_id=handoff_id,
                form=form,
            )
    except service.CaseNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from error
    except InvalidReferral as refusal:
        return _panel(page, handoff_id, PanelState(form=form, errors=refusal.errors), 422)
    except service.Refusal as refusal:
        state = PanelState(form=form, notice=("error", _sentence(refusal)))
        return _panel(page, handoff_id, state, refusal.status)
    if not page.htmx:
        code = "referral_created" if created.slip_sent else "referral_saved"
        if not created.slip_sent and created.slip_problem is None:
            code = "referral_no_slip"
        return RedirectResponse(
            f"/console/cases/{handoff_id}?notice={code}", status.HTTP_303_SEE_OTHER
        )
    return _panel(page, handoff_id, PanelState(notice=_created_notice(created)), 200)


@router.post("/cases/{handoff_id}/referrals/{referral_id}/state")
def move(
    handoff_id: int,
    referral_id: int,
    page: PageDep,
    state: Annotated[str, Form()] = "",
    seen_state: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Move a referral in its lifecycle, with an optional note, from the state last seen."""
    try:
        with service.audited_session(page.settings.database_url) as session:
            referral = move_for_case(
                session=session,
                viewer=page.counsellor,
                handoff_id=handoff_id,
                referral_id=referral_id,
                to_state=state,
                seen_state=seen_state,
                note=note,
            )
            code = referral.code
    except service.CaseNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from error
    except (ReferralConflict, ReferralNotFound) as refusal:
        panel = PanelState(move_errors={referral_id: _sentence(refusal)})
        if isinstance(refusal, ReferralNotFound):
            panel = PanelState(notice=("error", "No such referral for this person."))
        return _panel(page, handoff_id, panel, refusal.status)
    except service.Refusal as refusal:
        return _panel(page, handoff_id, PanelState(notice=("error", _sentence(refusal))), 403)
    if not page.htmx:
        return RedirectResponse(
            f"/console/cases/{handoff_id}?notice=referral_moved", status.HTTP_303_SEE_OTHER
        )
    moved = PanelState(notice=("ok", f"Referral {code} is now {state}."))
    return _panel(page, handoff_id, moved, 200)


@router.get("/cases/{handoff_id}/referrals/services")
def services(
    handoff_id: int, page: PageDep, kind: Annotated[str, Query(max_length=32)] = ""
) -> HTMLResponse:
    """The service list for a type of referral, near the case's person (htmx, on change)."""
    try:
        with service.audited_session(page.settings.database_url) as session:
            handoff = service.find_case(
                session=session,
                viewer=page.counsellor,
                handoff_id=handoff_id,
                action="referral.services",
            )
            panel = panel_context(
                session=session,
                viewer=page.counsellor,
                handoff=handoff,
                state=PanelState(form=ReferralForm(kind=kind)),
            )
    except service.CaseNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from error
    if panel["referral_panel"] is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "referrals are for counsellors")
    return fragment("case.html", "referral_service_field", page.context(**panel))


def _sentence(refusal: service.Refusal) -> str:
    text = str(refusal)
    return text[:1].upper() + text[1:] + "."
