"""Bounded text extraction from stored documents (PDF, DOCX, images, plain text).

:func:`extract_text` never raises for a bad file and never hangs: parsing runs in a child
process (:mod:`qiyue.documents.extract_worker`) with a wall-clock timeout, an address-space
cap (``RLIMIT_AS``), a CPU cap and an output cap, so malformed PDFs, Flate bombs, DOCX zip
bombs and image decompression bombs end as ``Extraction(status="failed")`` with a
``reason_code`` and an English ``reason``. Scans and image-only PDF pages go through the
``tesseract`` binary (``chi_sim+eng``); when it is not installed the result says
``ocr_unavailable`` so the UI can tell the user why there is no text.

Called by the extraction job with a plaintext temporary copy of the blob; temporary files
of the worker live in a private directory that is removed when the call returns.

Limits (keyword arguments): ``timeout_s`` = 60 s wall clock, ``max_chars`` = 5,000,000,
``memory_mb`` = 1536 MB address space, DOCX/XLSX ZIPs up to 200 MB uncompressed and a
compression ratio of 100× for members above 1 MB, images up to 100 megapixels, TIFFs up
to 500 frames, OCR at 200 dpi with pages reduced to at most 40 megapixels.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

from qiyue.documents.sniff import FileKind, Kind, UnsupportedFileType, check_zip_bounds

__all__ = [
    "REASONS",
    "Extraction",
    "Method",
    "PageText",
    "Status",
    "WorkerResult",
    "extract_text",
    "ocr_available",
    "run_worker",
]

OCR_LANG = "chi_sim+eng"
OCR_DPI = 200
MAX_IMAGE_PIXELS = 100_000_000
OCR_MAX_PIXELS = 40_000_000
MAX_FRAMES = 500
ZIP_MAX_TOTAL = 200 * 1024 * 1024
ZIP_MAX_RATIO = 100.0


class Status(enum.StrEnum):
    OK = "ok"
    EMPTY = "empty"
    FAILED = "failed"
    OCR_UNAVAILABLE = "ocr_unavailable"


class Method(enum.StrEnum):
    PDFIUM = "pdfium"
    DOCX = "docx"
    TEXT = "text"
    OCR = "ocr"
    NONE = ""


#: Stable reason codes → English message, marked for translation (show with ``gettext``).
REASONS: dict[str, str] = {
    "timeout": _("Reading the file took too long and was stopped."),
    "out_of_memory": _(
        "Reading the file needed too much memory; it may be damaged or a decompression bomb."
    ),
    "crashed": _("The file could not be read; it may be damaged."),
    "damaged": _("The file is damaged and could not be read."),
    "password": _("The PDF is password-protected; upload a copy without a password."),
    "zip_bomb": _("The file looks like a zip bomb and was not read."),
    "image_too_large": _("The image is too large to read (decompression bomb protection)."),
    "ocr_unavailable": _(
        "Text recognition (OCR) is not installed on this server, so the text of scanned "
        "pages was not extracted."
    ),
    "ocr_disabled": _("Text recognition (OCR) is turned off, so scanned pages were not read."),
    "ocr_failed": _("Text recognition (OCR) failed."),
    "time_limit": _("The time limit was reached; only part of the text was extracted."),
    "truncated": _("The text is longer than the limit; only the beginning was kept."),
    "unsupported_kind": _("Text extraction is not supported for this file type."),
    "encoding": _("The text file is neither UTF-8 nor GB18030."),
    "no_text": _("The document contains no text."),
    "page_out_of_range": _("There is no such page."),
    "too_large": _("The file is too large to process."),
}


def reason_message(code: str) -> str:
    """The English message of a reason code ("" for none)."""
    return REASONS.get(code, REASONS["crashed"]) if code else ""


@dataclass(frozen=True, slots=True)
class PageText:
    """The text of one page (1-based; DOCX and plain text are a single page 1)."""

    number: int
    text: str
    method: Method


@dataclass(slots=True)
class Extraction:
    """The outcome of :func:`extract_text`.

    ``status`` is ``ok`` (some text), ``empty`` (no text in the file), ``failed`` (see
    ``reason_code``/``reason``) or ``ocr_unavailable`` (scanned pages but no Tesseract).
    ``reason_code`` may also be set with ``ok`` for partial results (``truncated``,
    ``time_limit``, ``ocr_unavailable`` for a PDF mixing text and scanned pages).
    ``detail`` is technical, for logs only.
    """

    status: Status
    text: str = ""
    pages: list[PageText] = field(default_factory=list)
    method: Method = Method.NONE
    reason_code: str = ""
    reason: str = ""
    detail: str = ""
    truncated: bool = False
    ocr_pages: int = 0
    elapsed_s: float = 0.0

    @property
    def user_reason(self) -> str:
        """``reason`` in the active language (call where a language is active)."""
        return gettext(self.reason) if self.reason else ""

    def page_of(self, offset: int) -> int | None:
        """The page number holding character ``offset`` of :attr:`text`."""
        position = 0
        for page in self.pages:
            position += len(page.text) + len(PAGE_SEPARATOR)
            if offset < position:
                return page.number
        return None


#: Between pages in :attr:`Extraction.text`.
PAGE_SEPARATOR = "\n\n"


def _failed(code: str, detail: str = "", *, started: float) -> Extraction:
    return Extraction(
        status=Status.FAILED,
        reason_code=code,
        reason=reason_message(code),
        detail=detail,
        elapsed_s=time.monotonic() - started,
    )


def ocr_available() -> str | None:
    """Path of the ``tesseract`` binary with ``chi_sim`` and ``eng`` data, or None."""
    binary = shutil.which("tesseract")
    if not binary:
        return None
    try:
        langs = subprocess.run(  # noqa: S603 - fixed argv
            [binary, "--list-langs"], capture_output=True, timeout=10, check=False, text=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    available = set((langs.stdout + langs.stderr).split())
    return binary if {"chi_sim", "eng"} <= available else None


# ---------------------------------------------------------------------------------------
# the child process


@dataclass(frozen=True, slots=True)
class WorkerResult:
    """What the worker answered: ``ok`` and its ``data``, or a failure ``code``."""

    ok: bool
    data: dict[str, Any]
    code: str = ""
    detail: str = ""


_SRC = str(Path(__file__).resolve().parents[2])


def run_worker(
    request: dict[str, Any],
    *,
    workdir: Path,
    timeout_s: float,
    memory_mb: int = 1536,
    max_result_bytes: int = 64 * 1024 * 1024,
) -> WorkerResult:
    """Run one operation of :mod:`qiyue.documents.extract_worker` in a child process.

    The child gets its own session (so a timeout kills it and its ``tesseract``), an
    address-space cap of ``memory_mb`` and a CPU cap; its answer is read from a file in
    ``workdir`` only if smaller than ``max_result_bytes``.
    """
    request_path = workdir / "request.json"
    result_path = workdir / "result.json"
    request = {
        "memory_mb": memory_mb,
        "cpu_s": int(timeout_s) + 5,
        "fsize_mb": 1024,
        "budget_s": max(1.0, timeout_s - 3.0),
        "workdir": str(workdir),
        "result": str(result_path),
        **request,
    }
    request_path.write_text(json.dumps(request, ensure_ascii=False), "utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH")) if p),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_THREAD_LIMIT": "1",
        "LANG": "C.UTF-8",
        "TMPDIR": str(workdir),
        "HOME": str(workdir),
    }
    if "TESSDATA_PREFIX" in os.environ:
        env["TESSDATA_PREFIX"] = os.environ["TESSDATA_PREFIX"]
    stderr_path = workdir / "stderr.txt"
    with stderr_path.open("wb") as stderr:
        proc = subprocess.Popen(  # noqa: S603 - our own module, fixed argv
            [sys.executable, "-m", "qiyue.documents.extract_worker", str(request_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=workdir,
            env=env,
            start_new_session=True,
        )
        try:
            returncode = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            return WorkerResult(False, {}, "timeout", f"killed after {timeout_s:.0f} s")
        finally:
            _kill_group(proc)  # stray tesseract children
    tail = _tail(stderr_path)
    if returncode != 0 or not result_path.exists():
        if "MemoryError" in tail or "bad_alloc" in tail or "Out of memory" in tail:
            return WorkerResult(False, {}, "out_of_memory", tail)
        if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            return WorkerResult(False, {}, "timeout", f"exit {returncode}")
        return WorkerResult(False, {}, "crashed", f"exit {returncode}: {tail}")
    if result_path.stat().st_size > max_result_bytes:
        return WorkerResult(False, {}, "too_large", "worker output above the cap")
    answer = json.loads(result_path.read_text("utf-8"))
    if not answer.get("ok"):
        return WorkerResult(False, {}, answer.get("code", "crashed"), answer.get("detail", ""))
    return WorkerResult(True, answer)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _tail(path: Path, size: int = 2000) -> str:
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - size))
        return fh.read().decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------
# the public entry point


def extract_text(
    path: Path,
    kind: FileKind,
    *,
    timeout_s: float = 60,
    max_chars: int = 5_000_000,
    ocr: bool = True,
    memory_mb: int = 1536,
    workdir: Path | None = None,
    zip_max_total: int = ZIP_MAX_TOTAL,
    zip_max_ratio: float = ZIP_MAX_RATIO,
) -> Extraction:
    """Extract the text of the file at ``path`` (a private plaintext copy) of ``kind``.

    Never raises for the file's content and returns within about ``timeout_s`` seconds.
    ``max_chars`` caps the characters of all page texts together (the page separators
    in :attr:`Extraction.text` are not counted); ``ocr=False`` skips scanned pages.
    ``workdir`` is a private directory for temporary files (a fresh temporary directory,
    removed afterwards, when omitted; when given, files written into it are removed but
    the directory is left).
    """
    started = time.monotonic()
    path = Path(path)
    if kind.kind is Kind.TEXT:
        return _extract_plain(path, max_chars=max_chars, started=started)
    if kind.kind not in (Kind.PDF, Kind.DOCX, Kind.JPEG, Kind.PNG, Kind.TIFF):
        return _failed("unsupported_kind", kind.kind.value, started=started)
    if kind.kind is Kind.DOCX:
        try:
            check_zip_bounds(path, max_total=zip_max_total, max_ratio=zip_max_ratio)
        except UnsupportedFileType as exc:
            code = "zip_bomb" if exc.code == "zip_bomb" else "damaged"
            return _failed(code, str(exc), started=started)
    tesseract = ocr_available() if ocr else None
    request = {
        "op": "extract",
        "kind": kind.kind.value,
        "path": str(path.resolve()),
        "max_chars": max_chars,
        "ocr": ocr,
        "tesseract": tesseract,
        "lang": OCR_LANG,
        "dpi": OCR_DPI,
        "max_pixels": MAX_IMAGE_PIXELS,
        "ocr_max_pixels": OCR_MAX_PIXELS,
        "max_frames": MAX_FRAMES,
    }
    with _private_dir(workdir) as tmp:
        result = run_worker(
            request,
            workdir=tmp,
            timeout_s=timeout_s,
            memory_mb=memory_mb,
            max_result_bytes=max_chars * 4 + 1024 * 1024,
        )
    if not result.ok:
        return _failed(result.code, result.detail, started=started)
    return _assemble(result.data, ocr=ocr, tesseract=tesseract, started=started)


def _assemble(
    data: dict[str, Any], *, ocr: bool, tesseract: str | None, started: float
) -> Extraction:
    pages = [PageText(int(n), str(text), Method(method)) for n, text, method in data["pages"]]
    notes: list[str] = data.get("notes", [])
    need_ocr, ocr_done = int(data.get("need_ocr", 0)), int(data.get("ocr_done", 0))
    text = PAGE_SEPARATOR.join(p.text for p in pages)
    has_text = bool(text.strip())
    methods = {p.method for p in pages if p.text.strip()}
    method = (
        Method.OCR
        if methods == {Method.OCR}
        else next((m for m in (Method.PDFIUM, Method.DOCX) if m in methods), Method.NONE)
    )
    reason_code = ""
    if need_ocr > ocr_done and not ocr:
        reason_code = "ocr_disabled"
    elif need_ocr > ocr_done and tesseract is None:
        reason_code = "ocr_unavailable"
    if "time_limit" in notes:
        reason_code = "time_limit"
    elif "truncated" in notes:
        reason_code = "truncated"
    if has_text:
        status = Status.OK
    elif reason_code == "ocr_unavailable":
        status = Status.OCR_UNAVAILABLE
    elif reason_code == "time_limit":
        status = Status.FAILED
    else:
        status = Status.EMPTY
        reason_code = reason_code or "no_text"
    return Extraction(
        status=status,
        text=text if has_text else "",
        pages=pages,
        method=method,
        reason_code=reason_code,
        reason=reason_message(reason_code),
        truncated="truncated" in notes,
        ocr_pages=ocr_done,
        elapsed_s=time.monotonic() - started,
    )


def _extract_plain(path: Path, *, max_chars: int, started: float) -> Extraction:
    # Decoding is bounded by reading at most 4 bytes per allowed character; no parser runs.
    limit = max_chars * 4
    with path.open("rb") as fh:
        raw = fh.read(limit + 1)
    cut = len(raw) > limit
    raw = raw[:limit]
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            if cut and exc.start >= len(raw) - 4:  # character split by the read limit
                try:
                    text = raw[: exc.start].decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
    if text is None:
        return _failed("encoding", started=started)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    truncated = cut or len(text) > max_chars
    text = text[:max_chars]
    if not text.strip():
        return Extraction(
            status=Status.EMPTY,
            method=Method.TEXT,
            reason_code="no_text",
            reason=reason_message("no_text"),
            elapsed_s=time.monotonic() - started,
        )
    code = "truncated" if truncated else ""
    return Extraction(
        status=Status.OK,
        text=text,
        pages=[PageText(1, text, Method.TEXT)],
        method=Method.TEXT,
        reason_code=code,
        reason=reason_message(code),
        truncated=truncated,
        elapsed_s=time.monotonic() - started,
    )


class _private_dir:
    """A fresh private temporary directory inside ``parent`` (or the system default)."""

    def __init__(self, parent: Path | None) -> None:
        self._tmp = tempfile.TemporaryDirectory(
            prefix="qiyue-doc-", dir=str(parent) if parent else None
        )

    def __enter__(self) -> Path:
        path = Path(self._tmp.name)
        path.chmod(0o700)
        return path

    def __exit__(self, *exc: object) -> None:
        self._tmp.cleanup()
