"""`sahay templates push`: create the built templates in Twilio and ask WhatsApp to approve
the ones that need it.

It reads what `sahay templates build` wrote (the definitions and `manifest.json`), lists
the account's content templates once (`GET /v1/ContentAndApprovals`) and creates only
those whose friendly name is not there yet (`POST /v1/Content`), so running it again
creates nothing twice. A template that needs approval (a check-in, which may go out
after the 24-hour window) is submitted (`POST /v1/Content/{sid}/ApprovalRequests/whatsapp`)
unless it was submitted before. Then it writes the two files the gateway reads: the
session templates by menu and language (`SAHAY_CONTENT_TEMPLATES`) and the check-in
templates by purpose and language (the JSON of `SAHAY_FOLLOWUP_TEMPLATES`).

A template whose friendly name exists already is left as it is, even when the built
definition changed: Twilio does not edit an approved template. Give the new wording a new
name (or delete the old template in the console) to replace it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twilio.base.exceptions import TwilioException
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList
from twilio.rest.content.v1.content.approval_create import ApprovalCreateList

from bot.channels.content_templates import MANIFEST

log = logging.getLogger(__name__)

#: What the push writes beside the definitions, for the gateway's settings.
CONTENT_SIDS_FILE = "content-sids.json"  # SAHAY_CONTENT_TEMPLATES names this file
FOLLOWUP_SIDS_FILE = "followup-templates.json"  # SAHAY_FOLLOWUP_TEMPLATES holds its JSON
#: Approval states in which a template still has to be submitted.
NOT_SUBMITTED = {"", "unsubmitted"}


class PushError(Exception):
    """The build is missing or Twilio refused a request; the message says which."""


@dataclass
class PushReport:
    """What one push did, by friendly name."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    approval: dict[str, str] = field(default_factory=dict)  # name -> WhatsApp status

    def describe(self) -> str:
        """One line for the command line."""
        waiting = sum(1 for status in self.approval.values() if status != "approved")
        return (
            f"created {len(self.created)}, already there {len(self.existing)}, "
            f"sent for WhatsApp approval {len(self.submitted)}, "
            f"{waiting} of {len(self.approval)} check-in templates not approved yet"
        )


def push_templates(*, client: Client, folder: Path) -> PushReport:
    """Create every built template not yet in the account; submit those needing approval.

    Raises:
        PushError: no build in `folder`, or Twilio refused a request.
    """
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        raise PushError(f"no {MANIFEST} in {folder}: run `sahay templates build` first")
    entries: list[dict[str, Any]] = json.loads(manifest_path.read_text(encoding="utf-8"))[
        "templates"
    ]
    report = PushReport()
    try:
        existing = {
            str(item.friendly_name): (str(item.sid), dict(item.approval_requests or {}))
            for item in client.content.v1.content_and_approvals.stream()
        }
        sids: dict[str, str] = {}
        for entry in entries:
            name = entry["friendly_name"]
            if name in existing:
                sid, approval = existing[name]
                report.existing.append(name)
            else:
                definition = json.loads((folder / entry["file"]).read_text(encoding="utf-8"))
                created = client.content.v1.contents.create(
                    ContentList.ContentCreateRequest(definition)
                )
                sid, approval = str(created.sid), {}
                existing[name] = (sid, approval)
                report.created.append(name)
            sids[name] = sid
            category = entry.get("approval")
            if category:
                status = str(approval.get("status") or "")
                if status in NOT_SUBMITTED:
                    request = ApprovalCreateList.ContentApprovalRequest(
                        {"name": name, "category": category}
                    )
                    answer = client.content.v1.contents(sid).approval_create.create(request)
                    status = str(answer.status or "received")
                    report.submitted.append(name)
                report.approval[name] = status
    except TwilioException as error:
        raise PushError(f"Twilio refused: {error}") from error
    _write_sid_files(folder=folder, entries=entries, sids=sids)
    return report


def _write_sid_files(*, folder: Path, entries: list[dict[str, Any]], sids: dict[str, str]) -> None:
    """The files the gateway's settings name, from the manifest and the sids."""
    menus: dict[str, dict[str, list[str]]] = {}
    followups: dict[str, dict[str, str]] = {}
    for entry in sorted(entries, key=lambda e: (e.get("menu") or "", e.get("page") or 0)):
        sid = sids[entry["friendly_name"]]
        if entry.get("menu"):
            menus.setdefault(entry["menu"], {}).setdefault(entry["language"], []).append(sid)
        elif entry.get("checkin"):
            followups.setdefault(entry["checkin"], {})[entry["language"]] = sid
    # One template is written as a string, a paged menu as the list of its pages.
    flat = {
        menu: {lang: pages[0] if len(pages) == 1 else pages for lang, pages in langs.items()}
        for menu, langs in menus.items()
    }
    for name, data in ((CONTENT_SIDS_FILE, flat), (FOLLOWUP_SIDS_FILE, followups)):
        (folder / name).write_text(
            json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
        )
