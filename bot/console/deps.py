"""Who is asking: the signed-in counsellor, from the session cookie or a bearer token.

Browsers hold the session in the `sahay_session` cookie (HttpOnly, SameSite=Strict,
Secure on https) and send a CSRF token with every POST: the `csrf_token` form field or
the `X-CSRF-Token` header. API clients may instead send `Authorization: Bearer <token>`
with a token from `POST /api/token`; a bearer token is never sent by a browser on its
own, so those requests need no CSRF token.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from bot.console.config import ConsoleSettings, get_console_settings
from bot.console.security import (
    ConsoleSession,
    csrf_valid,
    password_fingerprint,
    seal,
    session_key,
    unseal,
)
from bot.core.deps import SettingsDep
from bot.handoff.summary import TrackerFacts, TrackerReader, read_tracker
from bot.storage.db import session_scope
from bot.storage.models import Counsellor

SESSION_COOKIE = "sahay_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

ConsoleSettingsDep = Annotated[ConsoleSettings, Depends(get_console_settings)]

# Declared for OpenAPI (the "Authorize" button); the checks themselves are below.
bearer_scheme = HTTPBearer(auto_error=False, description="token from POST /api/token")
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="the console's session cookie"
)


@dataclass(frozen=True)
class Viewer:
    """The signed-in counsellor and how they proved it."""

    counsellor: Counsellor  # detached: read its columns, do not lazy-load relations
    session: ConsoleSession
    via: Literal["cookie", "bearer"]

    @property
    def role(self) -> str:
        """counsellor, supervisor or peer_supporter."""
        return self.counsellor.role


def signing_key(settings: SettingsDep) -> bytes:
    """The key session tokens are signed with."""
    return session_key(settings.encryption_key)


SigningKeyDep = Annotated[bytes, Depends(signing_key)]


def browser_session(
    request: Request, key: SigningKeyDep, console: ConsoleSettingsDep
) -> ConsoleSession | None:
    """The session in the cookie, signed in or not; None when there is none or it is bad."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = unseal(token, key=key, max_age=dt.timedelta(hours=console.session_hours))
    return found if found is not None and found.kind == "web" else None


def set_session_cookie(
    response: Response,
    request: Request,
    console_session: ConsoleSession,
    *,
    key: bytes,
    console: ConsoleSettings,
) -> None:
    """Put the session in the cookie: HttpOnly, SameSite=Strict, Secure on https."""
    response.set_cookie(
        SESSION_COOKIE,
        seal(console_session, key=key),
        max_age=int(console.session_hours * 3600),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    """Forget the session in this browser."""
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _load_viewer(database_url: str, console_session: ConsoleSession) -> Counsellor | None:
    if console_session.counsellor_id is None:
        return None
    with session_scope(database_url) as session:
        counsellor = session.get(Counsellor, console_session.counsellor_id)
        if counsellor is None or not counsellor.active:
            return None
        if password_fingerprint(counsellor.password_hash) != console_session.fingerprint:
            return None
        session.expunge(counsellor)
        return counsellor


def optional_viewer(
    request: Request,
    settings: SettingsDep,
    key: SigningKeyDep,
    console: ConsoleSettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    _cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Viewer | None:
    """The signed-in counsellor, or None."""
    if bearer is not None:
        token_session = unseal(
            bearer.credentials, key=key, max_age=dt.timedelta(hours=console.session_hours)
        )
        if token_session is None or token_session.kind != "api":
            return None
        counsellor = _load_viewer(settings.database_url, token_session)
        return Viewer(counsellor, token_session, "bearer") if counsellor else None
    cookie_session = browser_session(request, key, console)
    if cookie_session is None:
        return None
    counsellor = _load_viewer(settings.database_url, cookie_session)
    return Viewer(counsellor, cookie_session, "cookie") if counsellor else None


OptionalViewerDep = Annotated[Viewer | None, Depends(optional_viewer)]


async def _csrf_ok(request: Request, viewer: Viewer, key: bytes) -> bool:
    if viewer.via == "bearer":
        return True
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        field = form.get(CSRF_FIELD)
        token = field if isinstance(field, str) else None
    return csrf_valid(viewer.session, token, key=key)


class SignInNeeded(HTTPException):
    """A page asked for without a session: go to the sign-in form (htmx too)."""

    def __init__(self, request: Request) -> None:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        location = f"/console/sign-in?next={quote(target, safe='/')}"
        headers = {"Location": location}
        if request.headers.get("HX-Request"):
            headers["HX-Redirect"] = location
        super().__init__(status.HTTP_303_SEE_OTHER, "sign in first", headers=headers)


async def page_viewer(request: Request, viewer: OptionalViewerDep, key: SigningKeyDep) -> Viewer:
    """The counsellor signed in by cookie; a redirect to sign-in otherwise; CSRF on POST."""
    if viewer is None or viewer.via != "cookie":
        raise SignInNeeded(request)
    if request.method == "POST" and not await _csrf_ok(request, viewer, key):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return viewer


async def api_viewer(request: Request, viewer: OptionalViewerDep, key: SigningKeyDep) -> Viewer:
    """The counsellor signed in by cookie or bearer token; 401 otherwise; CSRF on POST."""
    if viewer is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in: a session cookie or a bearer token from POST /api/token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if request.method == "POST" and not await _csrf_ok(request, viewer, key):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")
    return viewer


PageViewerDep = Annotated[Viewer, Depends(page_viewer)]
ApiViewerDep = Annotated[Viewer, Depends(api_viewer)]


def tracker_reader(settings: SettingsDep) -> TrackerReader:
    """Reads intents and district from Rasa's tracker (tests replace it)."""

    def read(sender: str, since: dt.datetime) -> TrackerFacts:
        return read_tracker(
            rasa_url=settings.rasa_url, token=settings.rasa_token, sender=sender, since=since
        )

    return read


TrackerReaderDep = Annotated[TrackerReader, Depends(tracker_reader)]
