"""``qiyue review extract PATH... [--json]``: propose the key terms of contract files.
``qiyue review eval PATH [--format zh|cuad]``: score the extractor on a labelled folder.

``extract`` reads .txt, .pdf and .docx files (folders are searched recursively) and prints
each file's proposed fields; with ``--json`` one JSON object per line with ``"file"`` plus
the fields (key names of the zh-contracts gold files). ``eval`` prints accuracy per field,
``found`` (right value where the label has one) and ``clean`` (left empty where the label
is empty), and overall.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from qiyue.review.evaluation import evaluate
from qiyue.review.extraction import FIELDS, extract
from qiyue.review.extraction.base import plain
from qiyue.review.files import ReadError, iter_contract_files, read_contract_text


class Command(BaseCommand):
    help = "Key-term extraction: `extract` proposes contract fields, `eval` scores them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        ext = sub.add_parser("extract", help="propose the key terms of contract files")
        ext.add_argument("paths", nargs="+", type=Path, help="files or folders (.txt .pdf .docx)")
        ext.add_argument("--json", action="store_true", help="one JSON object per line")
        ev = sub.add_parser("eval", help="score the extractor on a labelled folder")
        ev.add_argument("path", type=Path, help="a zh-contracts folder or a CUAD folder")
        ev.add_argument("--format", choices=("zh", "cuad"), help="default: detected")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["verb"] == "eval":
            path: Path = opts["path"]
            if not path.is_dir():
                raise CommandError(f"{path} is not a folder")
            self.stdout.write(evaluate(path, fmt=opts["format"]).table())
            return
        failures = run_extract(opts["paths"], as_json=opts["json"], write=self.stdout.write)
        for message in failures:
            self.stderr.write(message)
        if failures:
            raise CommandError(f"{len(failures)} files could not be read")


def run_extract(paths: list[Path], *, as_json: bool, write: Any) -> list[str]:
    """Write the proposals for every file under ``paths``; return the read errors."""
    failures: list[str] = []
    for path in iter_contract_files(paths):
        try:
            text = read_contract_text(path)
        except ReadError as exc:
            failures.append(str(exc))
            continue
        proposals = extract(text)
        if as_json:
            row: dict[str, Any] = {"file": str(path)}
            row.update({n: plain(proposals[n].value) if n in proposals else None for n in FIELDS})
            write(json.dumps(row, ensure_ascii=False))
            continue
        write(f"== {path}")
        for name in FIELDS:
            if name not in proposals:
                write(f"  {name:<22} —")
                continue
            p = proposals[name]
            evidence = " ".join(text[p.start : p.end].split())[:60]
            value = json.dumps(plain(p.value), ensure_ascii=False)
            if len(value) > 80:
                value = value[:77] + "..."
            write(f"  {name:<22} {value}  ({p.confidence:.2f}; {p.start}-{p.end} «{evidence}»)")
    return failures
