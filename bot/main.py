"""The gateway's app factory: `uvicorn bot.main:create_app --factory`."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from bot import health, safety
from bot.channels import whatsapp
from bot.console import api as console_api
from bot.console import views as console_views
from bot.core import changes
from bot.core.config import Settings, get_settings
from bot.handoff.service import abandon_stale_handoffs
from bot.privacy import retention
from bot.rasa_client import RasaClient
from bot.ratelimit import RateLimiter, ip_limit_middleware
from bot.referrals.followups import FollowupScheduler
from bot.responses import get_catalogue
from bot.routing.media_jobs import MediaJobRunner
from bot.routing.retry import RetryScheduler
from bot.simulator import router as simulator
from bot.storage.db import migrate, session_scope
from ivr import router as voice
from ivr import simulator as voice_simulator

log = logging.getLogger(__name__)


SWEEP_INTERVAL_SECONDS = 60
# Each WhatsApp handler holds a worker thread while Rasa answers. With FastAPI's 40, the
# 41st person in a busy minute — even one in crisis, answered without Rasa — waited for a
# thread behind 40 Rasa turns (`make bench`, 50 people: crisis replies p95 over 1 s).
HANDLER_THREADS = 200


async def _sweep_abandoned_handoffs(settings: Settings) -> None:
    """Every minute, close queued cases whose person stopped writing long ago."""
    older_than = dt.timedelta(minutes=settings.handoff_abandon_minutes)

    def sweep() -> int:
        with session_scope(settings.database_url) as session:
            return abandon_stale_handoffs(session=session, older_than=older_than, actor="system")

    while True:
        try:
            abandoned = await asyncio.to_thread(sweep)
            if abandoned:
                log.info("marked %d waiting case(s) abandoned", abandoned)
        except Exception:  # the sweep must never take the gateway down
            log.exception("abandoned-handoff sweep failed")
        await asyncio.sleep(SWEEP_INTERVAL_SECONDS)


async def _retention_schedule(settings: Settings) -> None:
    """Every few hours, delete what is past the retention period (bot.privacy.retention)."""
    while True:
        await asyncio.sleep(retention.INTERVAL_SECONDS)
        try:
            report = await asyncio.to_thread(retention.run_retention, settings=settings)
            log.info(report.describe())
        except Exception:  # the schedule must never take the gateway down
            log.exception("retention run failed")


def security_headers(
    settings: Settings,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Headers every answer carries (pages set their own Content-Security-Policy)."""
    always = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    if settings.public_url.startswith("https://"):
        always["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    async def add_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in always.items():
            response.headers.setdefault(name, value)
        return response

    return add_headers


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the gateway: WhatsApp webhook, simulator, health; migrate the database."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = HANDLER_THREADS
        migrate(settings.database_url)
        changes.feed.configure(settings.redis_url)
        # Load and compile the crisis rules now: a broken rules file must stop the start,
        # not surface on the first person in crisis.
        safety.warm_up()
        app.state.rasa = RasaClient(
            settings.rasa_url, timeout=settings.rasa_timeout_seconds, token=settings.rasa_token
        )
        sweeper = asyncio.create_task(_sweep_abandoned_handoffs(settings))
        retention_task = asyncio.create_task(_retention_schedule(settings))
        followups = FollowupScheduler(settings=settings)
        followups.start()
        retries = RetryScheduler(settings=settings, rasa=app.state.rasa)
        # Media first: its first sweep refreshes the hold on voice notes still awaiting
        # their words, before the retries could take a stopped gateway's hold for a dead
        # claim. It also purges media past its retention, every quarter of an hour.
        app.state.media_jobs = MediaJobRunner(
            settings=settings,
            rasa=app.state.rasa,
            catalogue=get_catalogue(),
            on_answered=retries.nudge,
        )
        app.state.media_jobs.start()
        retries.start()
        log.info("Sahay gateway ready; simulator at /simulator")
        yield
        sweeper.cancel()
        retention_task.cancel()
        followups.stop()
        retries.stop()
        app.state.media_jobs.stop()
        app.state.rasa.close()

    app = FastAPI(title="Sahay gateway", version="0.1.0", lifespan=lifespan)
    app.dependency_overrides[get_settings] = lambda: settings
    app.state.limiter = RateLimiter(settings.redis_url)
    app.middleware("http")(ip_limit_middleware(settings, app.state.limiter))
    app.middleware("http")(security_headers(settings))
    app.include_router(health.router)
    app.include_router(whatsapp.router)
    app.include_router(voice.router)
    app.include_router(voice.prompts_router)
    app.include_router(voice_simulator.router)
    app.include_router(simulator.router)
    app.include_router(console_views.router)
    app.include_router(console_api.router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/simulator")

    @app.exception_handler(OverflowError)
    async def number_out_of_range(_request: Request, _error: OverflowError) -> JSONResponse:
        # An id or cursor past what the database's integers hold (found by schemathesis).
        return JSONResponse({"detail": "a number in the request is out of range"}, 422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        # Same status as FastAPI's default, without echoing the (possibly personal) input.
        fields = [".".join(str(p) for p in e["loc"]) for e in error.errors()]
        return JSONResponse({"detail": "invalid request", "fields": fields}, status_code=422)

    return app
