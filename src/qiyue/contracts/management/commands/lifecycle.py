"""``qiyue lifecycle run [--now YYYY-MM-DD] [--dry-run]``: the daily lifecycle job by hand.

Prints one line per change (a contract expired, renewed or auto-renewed; instalments
dated); a second run for the same day prints nothing. With ``--dry-run`` it prints what
it would change and changes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date

from qiyue.contracts.flows import run_lifecycle


def _day(raw: str) -> date:
    try:
        parsed = parse_date(raw)
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(f"--now expects a date as YYYY-MM-DD, not {raw!r}")
    return parsed


class Command(BaseCommand):
    help = "Contract lifecycle: `run` expires and auto-renews contracts as of a day."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        run = sub.add_parser("run", help="apply the daily lifecycle rules")
        run.add_argument("--now", help="the day to run for (default: today, company time)")
        run.add_argument("--dry-run", action="store_true", help="print, change nothing")

    def handle(self, *args: Any, **opts: Any) -> None:
        today = _day(opts["now"]) if opts.get("now") else None
        for change in run_lifecycle(today=today, dry_run=opts["dry_run"]):
            self.stdout.write(change.line)
