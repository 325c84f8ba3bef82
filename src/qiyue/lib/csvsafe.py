"""CSV output that spreadsheets cannot be tricked by.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel and LibreOffice (CSV injection, e.g. ``=cmd|' /C calc'!A0``); such cells
get a leading apostrophe so they show as the text they are."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        # Plain negative numbers stay numbers; anything else that looks like a formula
        # is quoted.
        if text.startswith("-") and _is_number(text):
            return text
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_lines(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Encoded-ready CSV lines (with a BOM first so Excel reads UTF-8 Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow([safe_cell(h) for h in header])
    yield "\ufeff" + flush()
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        yield flush()
