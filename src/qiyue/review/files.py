"""Reading contract text from files for the ``review`` command (.txt, .pdf, .docx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

__all__ = ["SUFFIXES", "ReadError", "iter_contract_files", "read_contract_text"]

SUFFIXES = (".txt", ".pdf", ".docx")


class ReadError(Exception):
    """The file's text could not be read (unsupported, damaged, or a scan without OCR)."""


def iter_contract_files(paths: list[Path]) -> Iterator[Path]:
    """The files named, and the contract files inside the folders named, sorted per folder."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            )
        else:
            yield path


def read_contract_text(path: Path) -> str:
    """The text of ``path``: plain text read directly, PDF/DOCX through the bounded extractor."""
    if not path.exists():
        raise ReadError(f"{path}: no such file")
    if path.suffix.lower() == ".txt":
        return path.read_text(encoding="utf-8", errors="replace")
    from qiyue.documents.extract import extract_text
    from qiyue.documents.sniff import UnsupportedFileType, sniff_path

    try:
        kind = sniff_path(path)
    except UnsupportedFileType as exc:
        raise ReadError(f"{path}: {exc}") from exc
    result = extract_text(path, kind)
    if not result.text:
        raise ReadError(f"{path}: no text ({result.reason_code or result.status})")
    return result.text
