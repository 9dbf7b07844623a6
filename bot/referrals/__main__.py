"""Command line: ``python -m bot.referrals followups run`` — for cron.

Sends every check-in that is due now (daytime IST only). Safe to run beside the
gateway's in-process schedule: each check-in is claimed atomically before it is sent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot.core.config import get_settings
from bot.referrals.followups import describe, run_due_followups
from bot.storage.db import migrate


def build_parser() -> argparse.ArgumentParser:
    """The parser for ``followups run [--now ISO-TIME] [--no-migrate]``."""
    parser = argparse.ArgumentParser(prog="python -m bot.referrals")
    topics = parser.add_subparsers(dest="topic", required=True)
    followups = topics.add_parser("followups", help="follow-up check-ins")
    actions = followups.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="send the check-ins that are due")
    run.add_argument("--now", help="act as if it were this time (ISO 8601, for tests)")
    run.add_argument("--no-migrate", action="store_true", help="do not upgrade the schema")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; the exit status is 1 when any check-in failed."""
    args = build_parser().parse_args(argv)
    settings = get_settings()
    if not args.no_migrate:
        migrate(settings.database_url)
    now = dt.datetime.fromisoformat(args.now) if args.now else None
    report = run_due_followups(settings=settings, now=now)
    print(describe(report))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
