"""Jinja templates, their filters, and template fragments (one block of a page)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from bot.console.charts import bar_chart_svg
from bot.console.dashboard import language_label, minutes
from bot.console.service import OUTCOMES
from bot.handoff.queue import aware

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True

# Pages show personal data: never cache them, never frame them, run only our own scripts.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}

_REASONS = {
    "crisis:suicide": "Crisis: thoughts of suicide",
    "crisis:self_harm": "Crisis: self-harm",
    "crisis:danger": "Crisis: in danger now",
    "request_human": "Asked to talk to a person",
}
_CRISIS = {"suicide": "thoughts of suicide", "self_harm": "self-harm", "danger": "in danger now"}


@pass_context
def local_time(context: Context, moment: dt.datetime | None, style: str = "short") -> str:
    """A UTC moment in the console's time zone: '14:05' today, '3 Dec 14:05' otherwise."""
    if moment is None:
        return ""
    zone: ZoneInfo = context.get("tz") or ZoneInfo("UTC")
    local = aware(moment).astimezone(zone)
    today = dt.datetime.now(zone).date()
    if style == "short" and local.date() == today:
        return local.strftime("%H:%M")
    return local.strftime("%d %b %H:%M").lstrip("0")


def reason_label(reason: str) -> str:
    """Why the case was handed over, in plain words."""
    return _REASONS.get(reason, reason.replace("_", " ").replace(":", ": "))


def crisis_label(category: str | None) -> str:
    """The crisis detector's category, in plain words."""
    return _CRISIS.get(category or "", (category or "").replace("_", " "))


def intent_label(intent: str) -> str:
    """An intent name as words: 'ask_ration' -> 'ask ration'."""
    return intent.replace("_", " ")


#: How a case ended, as the console says it: counsellors' outcomes and the person's exit.
CLOSED_FOR = {
    **OUTCOMES,
    "exited_for_safety": "The person left for safety (quick exit): do not write to them first",
}

templates.env.filters.update(
    local_time=local_time,
    duration=minutes,
    language=language_label,
    reason=reason_label,
    crisis=crisis_label,
    intent=intent_label,
    chart=bar_chart_svg,
    outcome=lambda key: CLOSED_FOR.get(key or "", key or ""),
)


def page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A whole page."""
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=SECURITY_HEADERS
    )


def render_block(name: str, block: str, context: dict[str, Any]) -> str:
    """One block of a template, rendered alone: a fragment for htmx or an event stream."""
    template = templates.env.get_template(name)
    return "".join(template.blocks[block](template.new_context(context))).strip()


def fragment(
    name: str, block: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """One block of a page as a response."""
    return HTMLResponse(
        render_block(name, block, context), status_code=status_code, headers=SECURITY_HEADERS
    )
