"""``qiyue audit verify [--checkpoint COUNT:HASH]`` and ``qiyue audit checkpoint``.

``verify`` exits 0 printing ``ok N events``, or 1 printing the first bad event and why
(on stderr). ``checkpoint`` prints the head as ``COUNT:HASH`` on stdout, the only line
there, so ``qiyue audit checkpoint > somewhere-else`` keeps it."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiyue.audit import integrity


class Command(BaseCommand):
    help = "Verify the audit log's hash chain, or print its head as a checkpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        verify = sub.add_parser("verify", help="walk the chain and name the first bad event")
        verify.add_argument(
            "--checkpoint",
            metavar="COUNT:HASH",
            help="also check that event number COUNT still has this hash",
        )
        sub.add_parser("checkpoint", help="print the head of the log as COUNT:HASH")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["verb"] == "checkpoint":
            head = integrity.head()
            if head is None:
                raise CommandError("the audit log is empty")
            self.stderr.write(
                f"The audit log has {head.count} events; the last one's hash is {head.hash}. "
                "Keep this line somewhere else and check it later with "
                "`qiyue audit verify --checkpoint`."
            )
            self.stdout.write(str(head))
            return
        checkpoint = None
        if opts.get("checkpoint"):
            try:
                checkpoint = integrity.Checkpoint.parse(opts["checkpoint"])
            except integrity.CheckpointError as exc:
                raise CommandError(str(exc)) from None
        report = integrity.verify(checkpoint=checkpoint)
        if report.problem is not None:
            self.stderr.write(f"BAD {report.problem}")
            self.stderr.write(f"({report.count} events before it are intact)")
            sys.exit(1)
        suffix = f", extends checkpoint {checkpoint.count}" if checkpoint else ""
        self.stdout.write(f"ok {report.count} events{suffix}")
