"""``qiyue import contracts FILE --as USERNAME [--format csv|jsonl] [--all-or-nothing]``.

Imports contracts (and, in a ``document_text`` column, the text of a document each)
through :func:`qiyue.contracts.bulk.import_contracts` with the permissions of the user
named by ``--as``. Prints the counts, then one line per refused row with its line number.
Without ``--all-or-nothing`` the valid rows are imported and the refused ones reported;
with it, nothing is imported if any row is refused. Exits with status 1 when a row was
refused."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiyue.contracts.actions import ContractError
from qiyue.contracts.bulk import DEFAULT_BATCH, FORMATS, ImportRefused, import_contracts, read_rows


class Command(BaseCommand):
    help = "Import contracts from a CSV or JSON Lines file: qiyue import contracts FILE --as USER"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["contracts"], help="what to import")
        parser.add_argument("file", help="the file (CSV with a header line, or JSON Lines)")
        parser.add_argument("--as", dest="username", required=True, help="import as this user")
        parser.add_argument("--format", choices=FORMATS, default=None, help="csv or jsonl")
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="import nothing if any row is refused",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)

    def handle(self, *args: Any, **opts: Any) -> None:
        user = get_user_model().objects.filter(username=opts["username"], is_active=True).first()
        if user is None:
            raise CommandError(_("No active user %(name)s.") % {"name": opts["username"]})
        path = Path(opts["file"])
        fmt = opts["format"] or ("jsonl" if path.suffix.lower() in {".jsonl", ".ndjson"} else "csv")
        started = time.perf_counter()
        try:
            with path.open("rb") as fh:
                result = import_contracts(
                    user,
                    read_rows(fh, fmt),
                    batch_size=opts["batch_size"],
                    all_or_nothing=opts["all_or_nothing"],
                )
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror or exc}
            ) from None
        except (ImportRefused, ContractError) as exc:
            raise CommandError(str(exc)) from None
        elapsed = time.perf_counter() - started
        self.stdout.write(
            _(
                "%(created)d contracts imported, %(parties)d new customers, "
                "%(documents)d documents, %(refused)d rows refused (%(rows)d rows, %(s).1f s)."
            )
            % {
                "created": len(result.created),
                "parties": result.parties_created,
                "documents": result.documents,
                "refused": len(result.errors),
                "rows": result.rows,
                "s": elapsed,
            }
        )
        for error in result.errors:
            self.stderr.write(_("line %(line)d: %(error)s") % {"line": error.line, "error": error})
        if result.errors:
            if opts["all_or_nothing"]:
                self.stderr.write(_("Nothing was imported because rows were refused."))
            sys.exit(1)
