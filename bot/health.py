"""Liveness and readiness: is the process up, and can it reach what it depends on."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.core.deps import SettingsDep
from bot.storage.db import get_engine

router = APIRouter(tags=["health"])

PROBE_TIMEOUT = 2.0


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    """Always ok while the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", summary="Database, Rasa and action server reachable")
def readyz(settings: SettingsDep) -> JSONResponse:
    """Check each dependency and name each one in the answer; 503 when any is down."""
    checks = {
        "database": _check_database(settings.database_url),
        "rasa": _check_http(f"{settings.rasa_url}/"),
        "action_server": _check_http(f"{settings.action_server_url}/health"),
    }
    ready = all(result == "ok" for result in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


def _check_database(url: str) -> str:
    try:
        with get_engine(url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means "not ready", with its reason
        return f"error: {type(error).__name__}"
    return "ok"


def _check_http(url: str) -> str:
    try:
        response = httpx.get(url, timeout=PROBE_TIMEOUT)
    except httpx.HTTPError as error:
        return f"error: {type(error).__name__}"
    return "ok" if response.status_code < 500 else f"error: HTTP {response.status_code}"
