"""Sahay's command line: `sahay counsellors add|list|unlock|deactivate|password|phone`,
`sahay services import|list`, `sahay followups run`, `sahay templates build|push`,
`sahay media purge`, `sahay privacy export|erase|rotate-keys`, `sahay retention run`.

    python -m bot.cli counsellors add asha --name "Asha Das" --role counsellor --languages bn,hi
    python -m bot.cli counsellors phone asha --number +919812345678
    python -m bot.cli counsellors list

The password is read from SAHAY_NEW_PASSWORD when set (for scripts), otherwise asked for
twice without echo. The database is the one the gateway uses (DATABASE_URL).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.phones import (
    PhoneNumberError,
    counsellor_phone,
    masked,
    normalise_phone,
    set_counsellor_phone,
)
from bot.console.security import MIN_PASSWORD_LENGTH, ROLES, hash_password
from bot.core.config import get_settings
from bot.knowledge.service_store import directory, import_services
from bot.language import LANGUAGES
from bot.referrals.followups import describe, run_due_followups
from bot.storage.crypto import phone_key
from bot.storage.db import migrate, session_scope
from bot.storage.models import Counsellor

PASSWORD_VARIABLE = "SAHAY_NEW_PASSWORD"


class CommandError(Exception):
    """A mistake in what was asked; the message is shown as it is."""


def _languages(text: str) -> list[str]:
    codes = [code.strip().lower() for code in text.split(",") if code.strip()]
    unknown = [code for code in codes if code not in LANGUAGES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown language code(s) {', '.join(unknown)}; use {', '.join(LANGUAGES)}"
        )
    return codes


def _new_password(username: str) -> str:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        if not sys.stdin.isatty():
            raise CommandError(f"no terminal to ask for a password: set {PASSWORD_VARIABLE}")
        password = getpass.getpass(f"New password for {username}: ")
        if getpass.getpass("Once more: ") != password:
            raise CommandError("the two passwords differ")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CommandError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def _phone(text: str) -> str:
    try:
        return normalise_phone(text)
    except PhoneNumberError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def add_counsellor(
    *,
    database_url: str,
    username: str,
    name: str,
    role: str,
    languages: list[str],
    password: str,
    phone: str | None = None,
    encryption_key: str = "",
) -> int:
    """Create a counsellor account (with the phone callers are put through to); its id."""
    with session_scope(database_url) as session:
        if session.scalar(select(Counsellor.id).where(Counsellor.username == username)):
            raise CommandError(f"{username} exists already")
        counsellor = Counsellor(
            username=username,
            display_name=name,
            password_hash=hash_password(password),
            role=role,
            languages=languages,
            active=True,
        )
        if phone is not None:
            set_counsellor_phone(counsellor, phone, key=encryption_key)
        session.add(counsellor)
        session.flush()
        return counsellor.id


def _find(session: Session, username: str) -> Counsellor:
    found = session.scalar(select(Counsellor).where(Counsellor.username == username))
    if found is None:
        raise CommandError(f"no counsellor {username}")
    return found


def _run_services(args: argparse.Namespace, database_url: str) -> str:
    if args.command == "import":
        with session_scope(database_url) as session:
            result = import_services(session=session, path=Path(args.file))
            if result.errors:
                session.rollback()
                lines = [f"{args.file}: {error}" for error in result.errors]
                raise CommandError(
                    "nothing imported; fix these rows and run again:\n" + "\n".join(lines)
                )
        return f"imported {args.file}: {result.added} added, {result.updated} updated"
    with session_scope(database_url) as session:
        services = directory(session)
    lines = [f"{'type':<16} {'state':<18} {'district':<20} name"]
    for service in sorted(services, key=lambda s: (s.service_type, s.state, s.district or "")):
        lines.append(
            f"{service.service_type.value:<16} {service.state:<18} "
            f"{service.district or '(state-wide)':<20} {service.name}"
        )
    return "\n".join(lines)


def _run_templates(args: argparse.Namespace) -> str:
    from bot.channels.content_templates import build_all
    from bot.routing.taps import MissingLabel

    if args.command == "push":
        return _push_templates(Path(args.dir))
    try:
        written = build_all(Path(args.out))
    except MissingLabel as error:
        raise CommandError(f"{error}: add it to domain/buttons/") from error
    languages = len({path.parent.name for path in written})
    return (
        f"wrote {len(written)} Content API definitions ({languages} languages) to {args.out}/; "
        f"`sahay templates push --dir {args.out}` creates them in Twilio"
    )


def _push_templates(folder: Path) -> str:
    from bot.channels.template_push import (
        CONTENT_SIDS_FILE,
        FOLLOWUP_SIDS_FILE,
        PushError,
        push_templates,
    )
    from bot.outbound import twilio_client

    settings = get_settings()
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise CommandError("set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN first")
    try:
        report = push_templates(client=twilio_client(settings), folder=folder)
    except PushError as error:
        raise CommandError(str(error)) from error
    return (
        f"{report.describe()}\n"
        f"SAHAY_CONTENT_TEMPLATES={folder / CONTENT_SIDS_FILE}\n"
        f"SAHAY_FOLLOWUP_TEMPLATES: the JSON in {folder / FOLLOWUP_SIDS_FILE} "
        "(a check-in template is used once WhatsApp has approved it)"
    )


def _run_privacy(args: argparse.Namespace) -> str:
    from bot.privacy.erasure import erase_everywhere
    from bot.privacy.export import NotFound, export_person
    from bot.privacy.keys import rotate_keys
    from bot.privacy.retention import run_retention

    settings = get_settings()
    if args.group == "retention":
        now = dt.datetime.fromisoformat(args.now) if args.now else None
        return run_retention(settings=settings, now=now).describe()
    if args.command == "export":
        try:
            document = export_person(settings=settings, phone=args.phone, actor="cli")
        except NotFound as error:
            raise CommandError(str(error)) from error
        text = json.dumps(document, ensure_ascii=False, indent=2)
        if args.out:
            Path(args.out).write_text(text + "\n")
            Path(args.out).chmod(0o600)
            return f"exported to {args.out}"
        return text
    if args.command == "erase":
        erasure = erase_everywhere(
            settings=settings,
            phone_key=phone_key(args.phone, secret=settings.phone_hash_key),
            actor="cli",
        )
        if not erasure.contact and not erasure.tracker_events:
            raise CommandError("no record of this number")
        tracker = erasure.tracker_error or f"{erasure.tracker_events} tracker event(s)"
        return f"erased: {erasure.conversations} conversation(s), {tracker}"
    rotation = rotate_keys(settings=settings)
    return "re-encrypted: " + ", ".join(f"{t} {n}" for t, n in rotation.rows.items())


def _run(args: argparse.Namespace) -> str:
    if args.group == "templates":
        return _run_templates(args)
    database_url = get_settings().database_url
    migrate(database_url)
    if args.group == "media":
        from bot.routing.media import purge_expired_media

        with session_scope(database_url) as session:
            return f"deleted {purge_expired_media(session=session)} expired media item(s)"
    if args.group in ("privacy", "retention"):
        return _run_privacy(args)
    if args.group == "services":
        return _run_services(args, database_url)
    if args.group == "followups":
        now = dt.datetime.fromisoformat(args.now) if args.now else None
        return describe(run_due_followups(settings=get_settings(), now=now))
    if args.command == "add":
        new_id = add_counsellor(
            database_url=database_url,
            username=args.username,
            name=args.name or args.username,
            role=args.role,
            languages=args.languages,
            password=_new_password(args.username),
            phone=args.phone,
            encryption_key=get_settings().encryption_key,
        )
        languages = ",".join(args.languages) or "no languages"
        return f"added {args.username} ({args.role}; {languages}), id {new_id}"
    with session_scope(database_url) as session:
        if args.command == "list":
            rows = session.scalars(select(Counsellor).order_by(Counsellor.username)).all()
            key = get_settings().encryption_key
            lines = [
                f"{'username':<20} {'name':<24} {'role':<15} {'languages':<18} {'phone':<8} status"
            ]
            for c in rows:
                status = "active" if c.active else "inactive"
                if c.locked_until is not None:
                    status += ", locked until " + c.locked_until.strftime("%Y-%m-%d %H:%M UTC")
                number = counsellor_phone(c, key=key)
                phone = masked(number) if number else "-"
                lines.append(
                    f"{c.username:<20} {c.display_name:<24} {c.role:<15} "
                    f"{','.join(c.languages or []):<18} {phone:<8} {status}"
                )
            return "\n".join(lines)
        counsellor = _find(session, args.username)
        if args.command == "unlock":
            counsellor.failed_logins = 0
            counsellor.locked_until = None
            return f"unlocked {args.username}"
        if args.command == "deactivate":
            counsellor.active = False
            return f"deactivated {args.username}: their sessions end at their next request"
        if args.command == "phone":
            set_counsellor_phone(counsellor, args.number, key=get_settings().encryption_key)
            if args.number is None:
                return (
                    f"forgot the phone number of {args.username}: callers go to the language line"
                )
            return f"callers are put through to {args.username} on {masked(args.number)}"
        if args.command == "password":
            counsellor.password_hash = hash_password(_new_password(args.username))
            counsellor.failed_logins = 0
            counsellor.locked_until = None
            return f"new password set for {args.username}: their other sessions have ended"
    raise CommandError(f"unknown command {args.command}")


def parser() -> argparse.ArgumentParser:
    """The command line's grammar."""
    top = argparse.ArgumentParser(prog="sahay", description="Sahay helpline administration")
    groups = top.add_subparsers(dest="group", required=True)
    counsellors = groups.add_parser("counsellors", help="console accounts")
    commands = counsellors.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--name", help="the name colleagues see")
    add.add_argument("--role", choices=ROLES, default="counsellor")
    add.add_argument(
        "--languages", type=_languages, default=[], help="codes, e.g. bn,hi (ISO 639-1)"
    )
    add.add_argument(
        "--phone", type=_phone, help="where phone callers are put through, e.g. +919812345678"
    )
    commands.add_parser("list", help="all accounts")
    for name, text in (
        ("unlock", "lift a sign-in lockout"),
        ("deactivate", "stop an account from signing in"),
        ("password", f"set a new password (from {PASSWORD_VARIABLE} or asked)"),
    ):
        commands.add_parser(name, help=text).add_argument("username")
    phone = commands.add_parser(
        "phone", help="the number phone callers are put through to (stored encrypted)"
    )
    phone.add_argument("username")
    number = phone.add_mutually_exclusive_group(required=True)
    number.add_argument("--number", type=_phone, help="with its country code, +919812345678")
    number.add_argument(
        "--clear", dest="number", action="store_const", const=None, help="forget it"
    )
    services = groups.add_parser("services", help="the directory of local offices")
    service_commands = services.add_subparsers(dest="command", required=True)
    service_commands.add_parser(
        "import", help="add or update offices from a CSV (all rows valid, or nothing)"
    ).add_argument("file")
    service_commands.add_parser("list", help="every office on record")
    followups = groups.add_parser("followups", help="referral check-ins")
    followups.add_subparsers(dest="command", required=True).add_parser(
        "run", help="send the check-ins that are due (for cron; the gateway also runs them)"
    ).add_argument("--now", help="ISO time to act as now (for tests)")
    templates = groups.add_parser("templates", help="WhatsApp tap templates (Content API)")
    template_commands = templates.add_subparsers(dest="command", required=True)
    template_commands.add_parser(
        "build", help="write one quick-reply / list-picker definition per menu and language"
    ).add_argument("--out", default="build/templates", help="folder (default build/templates)")
    template_commands.add_parser(
        "push", help="create the built templates in Twilio (once each); submit check-ins"
    ).add_argument("--dir", default="build/templates", help="the build's folder")
    media = groups.add_parser("media", help="photos and voice notes people sent")
    media.add_subparsers(dest="command", required=True).add_parser(
        "purge", help="delete media kept past SAHAY_MEDIA_RETENTION_DAYS (for cron)"
    )
    privacy = groups.add_parser("privacy", help="a person's data: export, erase; key rotation")
    privacy_commands = privacy.add_subparsers(dest="command", required=True)
    export = privacy_commands.add_parser("export", help="everything held about a number, as JSON")
    export.add_argument("phone", help="the person's number, e.g. +919812345678")
    export.add_argument("--out", help="write to this file (mode 600) instead of printing")
    privacy_commands.add_parser(
        "erase", help="delete a number's records here and in Rasa's tracker store"
    ).add_argument("phone")
    privacy_commands.add_parser(
        "rotate-keys", help="re-encrypt everything under SAHAY_ENCRYPTION_KEY"
    )
    retention = groups.add_parser("retention", help="delete conversations past retention")
    retention.add_subparsers(dest="command", required=True).add_parser(
        "run", help="delete closed conversations older than SAHAY_RETENTION_DAYS"
    ).add_argument("--now", help="ISO time to act as now (for tests)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 on success, 2 for a mistake in what was asked."""
    args = parser().parse_args(argv)
    try:
        print(_run(args))
    except CommandError as error:
        print(f"sahay: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
