"""``qiyue reminders run [--now YYYY-MM-DD] [--dry-run]``: send the reminders due on a
day (default: today in the company time zone), one line per reminder sent; a second
run for the same day prints nothing. ``qiyue reminders defaults`` adds the default rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiyue.reminders import actions, scheduler


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--now wants a date like 2027-03-31, not {text!r}") from None


class Command(BaseCommand):
    help = "Reminders: `run` sends the reminders due on a day; `defaults` adds default rules."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        run = sub.add_parser("run", help="send the reminders due on a day")
        run.add_argument("--now", metavar="YYYY-MM-DD", help="the day (default: today)")
        run.add_argument("--dry-run", action="store_true", help="list, send nothing")
        sub.add_parser("defaults", help="add the default rules when there are none")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["verb"] == "defaults":
            self.stdout.write(f"{actions.ensure_default_rules()} rules added")
            return
        day = _day(opts["now"]) if opts.get("now") else scheduler.today()
        for line in scheduler.run(day, dry_run=opts["dry_run"]):
            self.stdout.write(line)
