"""Sign-in, sessions, lockout and CSRF."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.console.deps import SESSION_COOKIE
from bot.console.security import MAX_FAILED_SIGN_INS, hash_password
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Counsellor, utcnow
from tests.console.conftest import (
    PASSWORD,
    Console,
    build,
    counsellor,
    csrf_from,
    make_case,
    sign_in,
    token,
)


def _attempt(console: Console, username: str, password: str) -> int:
    form = console.client.get("/console/sign-in")
    response = console.client.post(
        "/console/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_from(form.text)},
    )
    return response.status_code


def test_pages_need_a_session_and_the_api_a_token(console: Console) -> None:
    page = console.client.get("/console/queue")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/console/sign-in?next=/console/queue")
    assert console.client.get("/api/queue").status_code == 401


def test_sign_in_sets_a_strict_http_only_cookie_and_audits(console: Console) -> None:
    counsellor(console, "asha")
    form = console.client.get("/console/sign-in")
    response = console.client.post(
        "/console/sign-in",
        data={
            "username": "asha",
            "password": PASSWORD,
            "csrf_token": csrf_from(form.text),
            "next": "/console/queue",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == "/console/queue"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain http in this test
    assert console.client.get("/console/queue").status_code == 200
    with session_scope(console.url) as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "asha")).all()
    assert "sign_in" in actions


def test_the_cookie_is_secure_over_https(tmp_path: Path) -> None:
    with build(tmp_path, base_url="https://testserver") as https:
        counsellor(https, "asha")
        form = https.client.get("/console/sign-in")
        assert "Secure" in form.headers["set-cookie"]
        response = https.client.post(
            "/console/sign-in",
            data={"username": "asha", "password": PASSWORD, "csrf_token": csrf_from(form.text)},
        )
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]


def test_next_never_leaves_the_console(console: Console) -> None:
    counsellor(console, "asha")
    form = console.client.get("/console/sign-in")
    response = console.client.post(
        "/console/sign-in",
        data={
            "username": "asha",
            "password": PASSWORD,
            "csrf_token": csrf_from(form.text),
            "next": "//evil.example/console",
        },
    )
    assert response.headers["location"] == "/console/queue"


def test_wrong_password_and_unknown_user_look_the_same(console: Console) -> None:
    counsellor(console, "asha")
    assert _attempt(console, "asha", "wrong password") == 401
    assert _attempt(console, "nobody", "wrong password") == 401


def test_five_failures_lock_the_account_for_fifteen_minutes(console: Console) -> None:
    counsellor(console, "asha")
    codes = [_attempt(console, "asha", f"guess {i}") for i in range(MAX_FAILED_SIGN_INS)]
    assert codes == [401] * (MAX_FAILED_SIGN_INS - 1) + [429]
    # Locked: even the right password is refused, and the API says the same.
    assert _attempt(console, "asha", PASSWORD) == 429
    assert (
        console.client.post(
            "/api/token", json={"username": "asha", "password": PASSWORD}
        ).status_code
        == 429
    )
    with session_scope(console.url) as session:
        asha = session.scalars(select(Counsellor).where(Counsellor.username == "asha")).one()
        locked_for = asha.locked_until.replace(tzinfo=dt.UTC) - utcnow()  # type: ignore[union-attr]
        assert dt.timedelta(minutes=14) < locked_for <= dt.timedelta(minutes=15)
        asha.locked_until = utcnow() - dt.timedelta(seconds=1)  # fifteen minutes later
    assert _attempt(console, "asha", PASSWORD) == 303
    with session_scope(console.url) as session:
        asha = session.scalars(select(Counsellor).where(Counsellor.username == "asha")).one()
        assert asha.failed_logins == 0 and asha.locked_until is None
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "asha")).all()
    assert actions.count("sign_in.failed") == MAX_FAILED_SIGN_INS - 1
    assert "sign_in.locked" in actions


def test_sign_in_without_the_forms_csrf_token_is_refused(console: Console) -> None:
    counsellor(console, "asha")
    console.client.get("/console/sign-in")
    response = console.client.post(
        "/console/sign-in", data={"username": "asha", "password": PASSWORD, "csrf_token": "0" * 64}
    )
    assert response.status_code == 403 and "expired" in response.text
    assert console.client.get("/console/queue").status_code == 303


@pytest.fixture
def signed_in(console: Console) -> Iterator[tuple[Console, str, int]]:
    counsellor(console, "asha")
    case = make_case(console, phone="+919800000001")
    yield console, sign_in(console.client, "asha"), case


def test_a_post_without_csrf_token_is_refused(signed_in: tuple[Console, str, int]) -> None:
    console, csrf, case = signed_in
    assert console.client.post(f"/console/cases/{case}/claim").status_code == 403
    assert (
        console.client.post(
            f"/console/cases/{case}/claim", data={"csrf_token": "f" * 64}
        ).status_code
        == 403
    )
    # The JSON API with the cookie needs the header too; a bearer token does not.
    assert console.client.post(f"/api/cases/{case}/claim").status_code == 403
    me = console.client.get("/api/me").json()
    assert me["csrf_token"] == csrf
    ok = console.client.post(f"/api/cases/{case}/claim", headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["state"] == "claimed"


def test_a_bearer_token_needs_no_csrf_token(signed_in: tuple[Console, str, int]) -> None:
    console, _, case = signed_in
    console.client.cookies.clear()
    headers = token(console.client, "asha")
    assert console.client.post(f"/api/cases/{case}/claim", headers=headers).status_code == 200
    assert console.client.get("/api/me", headers=headers).json()["csrf_token"] is None


def test_a_tampered_or_cookie_token_is_not_a_bearer_token(
    signed_in: tuple[Console, str, int],
) -> None:
    console, _, _ = signed_in
    cookie = console.client.cookies[SESSION_COOKIE]
    console.client.cookies.clear()
    assert (
        console.client.get("/api/me", headers={"Authorization": f"Bearer {cookie}"}).status_code
        == 401
    )
    headers = token(console.client, "asha")
    forged = headers["Authorization"][:-3] + "AAA"
    assert console.client.get("/api/me", headers={"Authorization": forged}).status_code == 401


def test_a_new_password_ends_older_sessions(signed_in: tuple[Console, str, int]) -> None:
    console, _, _ = signed_in
    with session_scope(console.url) as session:
        asha = session.scalars(select(Counsellor).where(Counsellor.username == "asha")).one()
        asha.password_hash = hash_password("another long password")
    assert console.client.get("/console/queue").status_code == 303


def test_sign_out_forgets_the_session(signed_in: tuple[Console, str, int]) -> None:
    console, csrf, _ = signed_in
    response = console.client.post("/console/sign-out", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert console.client.get("/console/queue").status_code == 303
