"""Twilio Content templates for the bot's choices: definitions, and sending them.

`sahay templates build` writes one Content API definition per menu and language
(`twilio/quick-reply` for up to three choices, `twilio/list-picker` for more, with
`twilio/text` beside it for channels without either). A menu of more than ten choices
(the language menu) becomes consecutive list pickers of at most ten. The body is the
variable `{{1}}`: the reply exactly as the bot words it, numbered lines included, so
that a typed number keeps working. A payload that changes from offer to offer (a
district, a scheme) is an id variable too.

Referral check-ins may go out after the person's last message is more than 24 hours
old, when WhatsApp accepts only a template it approved: a fixed text. So the build also
writes, per language, one quick-reply template for each check-in (`sahay_checkin_<purpose>
_<lang>`) whose text is the check-in's own, with the service as `{{1}}` and the reference
code as `{{2}}`, and whose buttons are its choices. `manifest.json` beside the
definitions says what each one is for and which need WhatsApp's approval;
`sahay templates push` (bot/channels/template_push.py) creates them in Twilio.

Once the templates exist in Twilio, `SAHAY_CONTENT_TEMPLATES` names a JSON file mapping
menu -> language -> ContentSid (or a list of them, one per list page). With it, a reply
that offers choices goes out through the REST API as the template (TwiML cannot carry a
ContentSid), and the replies around it go the same way, so they arrive in order;
without it, or when Twilio refuses, the numbered text goes out in the TwiML answer.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from twilio.base.exceptions import TwilioException

from bot.core.config import Settings
from bot.language import LANGUAGES
from bot.rasa_client import BotReply
from bot.responses import ResponseCatalogue, get_catalogue
from bot.routing.taps import LIST_ITEMS_MAX, ChoiceSet, TapCatalogue, TapOption, get_taps

log = logging.getLogger(__name__)

SAMPLE_VALUES = {"district": "Murshidabad", "state": "West Bengal", "service": "DLSA"}
#: What `sahay templates build` writes beside the definitions: what each one is for.
MANIFEST = "manifest.json"
#: Check-ins by purpose, and the values their approved templates take, in this order.
CHECKIN_PURPOSES = ("reached", "helped")
CHECKIN_VARIABLES = ("service", "code")
#: Self-evident sample values: WhatsApp's reviewers read them (Twilio's advice).
CHECKIN_SAMPLES = {"service": "District Legal Services Authority, Malda", "code": "SAH-7K2Q9"}
#: WhatsApp's category for a check-in on a referral the person asked for.
CHECKIN_CATEGORY = "UTILITY"
# What a changing payload looks like, for the variable's sample value.
SAMPLE_PAYLOADS = {
    "/inform_location{*}": '/inform_location{"district": "Murshidabad", "state": "West Bengal"}',
    "/check_eligibility{*}": '/check_eligibility{"scheme": "pmjay"}',
}


@dataclass(frozen=True)
class TemplatePage:
    """One template of a menu (a menu of more than ten choices has several)."""

    friendly_name: str
    options: tuple[TapOption, ...]
    start: int  # the number of its first option in the menu

    @property
    def first(self) -> bool:
        """Whether this is the page that carries the reply's own text."""
        return self.start == 1


def pages(menu: ChoiceSet, language: str, taps: TapCatalogue) -> list[TemplatePage]:
    """The menu's templates in `language`: one, or balanced pages of at most ten."""
    options = taps.options(menu, language)
    count = -(-len(options) // LIST_ITEMS_MAX)
    size = -(-len(options) // count)
    chunks = [options[i : i + size] for i in range(0, len(options), size)]
    base = f"sahay_{menu.name.removeprefix('utter_')}_{language}"
    return [
        TemplatePage(
            friendly_name=base if count == 1 else f"{base}_p{n}",
            options=tuple(chunk),
            start=1 + (n - 1) * size,
        )
        for n, chunk in enumerate(chunks, start=1)
    ]


def definition(
    menu: ChoiceSet, page: TemplatePage, language: str, taps: TapCatalogue
) -> dict[str, Any]:
    """The Content API create request for one page (POST /v1/Content)."""
    variables = {"1": _sample_body(menu, page, language, taps)}
    ids: list[str] = []
    for option in page.options:
        if "*" in option.payload:
            key = str(len(variables) + 1)
            variables[key] = SAMPLE_PAYLOADS.get(option.payload, option.payload)
            ids.append("{{" + key + "}}")
        else:
            ids.append(option.payload)
    if menu.kind == "quick-reply":
        rich: dict[str, Any] = {
            "twilio/quick-reply": {
                "body": "{{1}}",
                "actions": [
                    {"title": o.title, "id": i} for o, i in zip(page.options, ids, strict=True)
                ],
            }
        }
    else:
        rich = {
            "twilio/list-picker": {
                "body": "{{1}}",
                "button": taps.list_button(language),
                # A description that only repeats the title is left out (it is optional).
                "items": [
                    {"item": o.title, "id": i}
                    | ({"description": o.description} if o.description != o.title else {})
                    for o, i in zip(page.options, ids, strict=True)
                ],
            }
        }
    return {
        "friendly_name": page.friendly_name,
        "language": language,
        "variables": variables,
        "types": {**rich, "twilio/text": {"body": "{{1}}"}},
    }


def checkin_menu(purpose: str, taps: TapCatalogue | None = None) -> ChoiceSet:
    """The choices a referral check-in of this purpose offers (domain/menus.yml)."""
    return (taps or get_taps()).menus[f"followup_{purpose}"]


def checkin_definition(
    purpose: str, language: str, taps: TapCatalogue, catalogue: ResponseCatalogue
) -> dict[str, Any]:
    """The Content API create request for a check-in's template for WhatsApp approval."""
    menu = checkin_menu(purpose, taps)
    assert menu.response is not None
    body = catalogue.render(menu.response, language)
    for number, name in enumerate(CHECKIN_VARIABLES, start=1):
        body = body.replace("{" + name + "}", "{{" + str(number) + "}}")
    actions = [{"title": o.title, "id": o.payload} for o in taps.options(menu, language)]
    return {
        "friendly_name": checkin_name(purpose, language),
        "language": language,
        "variables": {
            str(number): CHECKIN_SAMPLES[name]
            for number, name in enumerate(CHECKIN_VARIABLES, start=1)
        },
        "types": {
            "twilio/quick-reply": {"body": body, "actions": actions},
            "twilio/text": {"body": body},
        },
    }


def checkin_name(purpose: str, language: str) -> str:
    """A check-in template's friendly name, also its name for WhatsApp's review."""
    return f"sahay_checkin_{purpose}_{language}"


def checkin_values(*, service: str, code: str) -> dict[str, str]:
    """The variables an approved check-in template is sent with."""
    values = {"service": service, "code": code}
    return {str(n): values[name] for n, name in enumerate(CHECKIN_VARIABLES, start=1)}


def build_all(
    out: Path, taps: TapCatalogue | None = None, catalogue: ResponseCatalogue | None = None
) -> list[Path]:
    """Write every definition to `out/<lang>/<friendly_name>.json` and the manifest;
    returns the definitions' files."""
    taps = taps or get_taps()
    catalogue = catalogue or get_catalogue()
    written: list[Path] = []
    manifest: list[dict[str, Any]] = []

    def write(path: Path, body: dict[str, Any], **entry: Any) -> None:
        path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
        manifest.append(
            {"file": path.relative_to(out).as_posix(), "friendly_name": body["friendly_name"]}
            | {"language": body["language"]}
            | entry
        )

    for language in LANGUAGES:
        folder = out / language
        folder.mkdir(parents=True, exist_ok=True)
        for menu in taps.menus.values():
            for number, page in enumerate(pages(menu, language, taps), start=1):
                write(
                    folder / f"{page.friendly_name}.json",
                    definition(menu, page, language, taps),
                    menu=menu.name,
                    page=number,
                )
        for purpose in CHECKIN_PURPOSES:
            write(
                folder / f"{checkin_name(purpose, language)}.json",
                checkin_definition(purpose, language, taps, catalogue),
                checkin=purpose,
                approval=CHECKIN_CATEGORY,
            )
    (out / MANIFEST).write_text(
        json.dumps({"templates": manifest}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return written


def _sample_body(menu: ChoiceSet, page: TemplatePage, language: str, taps: TapCatalogue) -> str:
    if not page.first:
        return page_text(page)
    text = taps.numbered_text(menu, language)
    for name, value in SAMPLE_VALUES.items():
        text = text.replace("{" + name + "}", value)
    return text


def page_text(page: TemplatePage) -> str:
    """The body of a later list page: its options as numbered lines."""
    return "\n".join(f"{page.start + i}. {o.title}" for i, o in enumerate(page.options))


# --- sending ---------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _content_sids(path: str, _mtime: float) -> dict[str, dict[str, list[str]]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {
        menu: {lang: [sid] if isinstance(sid, str) else list(sid) for lang, sid in langs.items()}
        for menu, langs in data.items()
    }


def content_sids(settings: Settings) -> dict[str, dict[str, list[str]]]:
    """Menu -> language -> ContentSids, from SAHAY_CONTENT_TEMPLATES (empty when unset)."""
    if not settings.content_templates_file:
        return {}
    path = Path(settings.content_templates_file)
    try:
        return _content_sids(str(path), path.stat().st_mtime)
    except (OSError, ValueError, AttributeError) as error:
        log.warning("content templates file unreadable, sending numbered text: %s", error)
        return {}


@dataclass(frozen=True)
class Outgoing:
    """One REST message: free text, or a template with its variables."""

    reply: int  # which of the turn's replies it carries
    body: str | None = None
    content_sid: str | None = None
    variables: dict[str, str] | None = None


def as_templates(
    replies: list[BotReply], *, language: str | None, settings: Settings
) -> list[Outgoing] | None:
    """The replies as REST messages when one of them can go as a template, else None."""
    sids = content_sids(settings)
    if not sids:
        return None
    # Without a language the bot writes English (and the language menu, in every script).
    language = language or "en"
    taps = get_taps()
    out: list[Outgoing] = []
    templated = False
    for number, reply in enumerate(replies):
        menu = taps.menu_for(reply.choices, reply.text, language) if reply.choices else None
        menu_sids = sids.get(menu.name, {}).get(language) if menu else None
        if menu is None or not menu_sids or reply.media_url:
            out.append(Outgoing(reply=number, body=reply.text))
            continue
        menu_pages = pages(menu, language, taps)
        if len(menu_pages) != len(menu_sids):
            log.warning(
                "%s/%s: %d templates for %d pages",
                menu.name,
                language,
                len(menu_sids),
                len(menu_pages),
            )
            out.append(Outgoing(reply=number, body=reply.text))
            continue
        templated = True
        offered = list(reply.choices)
        for page, sid in zip(menu_pages, menu_sids, strict=True):
            variables = {"1": reply.text if page.first else page_text(page)}
            for option in page.options:
                if "*" in option.payload:
                    index = list(menu.payloads).index(option.payload)
                    variables[str(len(variables) + 1)] = offered[index]
            out.append(Outgoing(reply=number, content_sid=sid, variables=variables))
    return out if templated else None


def send_with_templates(
    *, settings: Settings, to: str, replies: list[BotReply], language: str | None
) -> list[BotReply]:
    """Send the turn's replies by REST when a template fits; return what TwiML must carry."""
    if not (settings.twilio_account_sid and settings.twilio_whatsapp_from):
        return replies
    outgoing = as_templates(replies, language=language, settings=settings)
    if outgoing is None:
        return replies
    from bot.outbound import twilio_client

    client = twilio_client(settings)
    for message in outgoing:
        try:
            if message.content_sid:
                client.messages.create(
                    from_=settings.twilio_whatsapp_from,
                    to=to,
                    content_sid=message.content_sid,
                    content_variables=json.dumps(message.variables or {}, ensure_ascii=False),
                )
            else:
                client.messages.create(
                    from_=settings.twilio_whatsapp_from, to=to, body=message.body or ""
                )
        except TwilioException as error:
            log.warning("template send failed, the rest goes as numbered text: %s", error)
            # From the reply that failed on (a list's first page may be out already).
            return replies[message.reply :]
    return []
