"""``qiyue documents sweep [--delete] [--grace-hours N]``: compare blob files and rows.
``qiyue documents extract [--version ID] [--force] [--now]``: queue (or run) the text
extraction of versions still pending — after a crash lost their jobs — or of one version.

Exits non-zero when rows are missing their files (restore them from a backup); orphan
files (a crash or a rolled-back upload) are listed, and removed with ``--delete`` once
older than the grace period.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiyue.documents import blobs


class Command(BaseCommand):
    help = "Maintenance of the document store: `sweep` finds orphan files and missing files."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        sweep = sub.add_parser("sweep", help="files without rows, rows without files")
        sweep.add_argument("--delete", action="store_true", help="delete old orphan files")
        sweep.add_argument(
            "--grace-hours",
            type=float,
            default=blobs.DEFAULT_GRACE.total_seconds() / 3600,
            help="only delete orphans older than this (default 24)",
        )
        extract = sub.add_parser("extract", help="extract the text of pending versions")
        extract.add_argument("--version", type=int, help="only this document version id")
        extract.add_argument("--force", action="store_true", help="again, even if done")
        extract.add_argument("--now", action="store_true", help="run here, not in the queue")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["verb"] == "extract":
            self._extract(opts)
            return
        if opts["grace_hours"] < 0:
            raise CommandError("--grace-hours must not be negative")
        report = blobs.sweep(delete=opts["delete"], grace=timedelta(hours=opts["grace_hours"]))
        out = self.stdout.write
        out(f"{report.files} files in the storage")
        for name in report.orphans:
            state = (
                "deleted"
                if name in report.deleted
                else "kept (younger than the grace period)"
                if name in report.kept
                else "orphan"
            )
            out(f"orphan file {name}: {state}")
        for name in report.stale_temp:
            out(f"stale upload temp file {name}: {'deleted' if opts['delete'] else 'found'}")
        for pk in report.missing:
            out(f"MISSING FILE for blob {pk}")
        out(
            f"{len(report.orphans)} orphans ({len(report.deleted)} deleted), "
            f"{len(report.missing)} rows missing their file"
        )
        if report.missing:
            raise CommandError(f"{len(report.missing)} blobs are missing their files")

    def _extract(self, opts: dict[str, Any]) -> None:
        from qiyue.documents import actions
        from qiyue.documents.models import DocumentVersion, TextStatus

        versions = DocumentVersion.objects.order_by("pk")
        if opts["version"] is not None:
            versions = versions.filter(pk=opts["version"])
            if not versions.exists():
                raise CommandError(f"no document version {opts['version']}")
        elif not opts["force"]:
            versions = versions.filter(text_status=TextStatus.PENDING)
        count = 0
        for pk in versions.values_list("pk", flat=True).iterator():
            if opts["now"]:
                actions.extract_version(pk, force=opts["force"])
            else:
                actions.enqueue_extraction(pk, force=opts["force"])
            count += 1
        self.stdout.write(f"{count} versions {'extracted' if opts['now'] else 'queued'}")
