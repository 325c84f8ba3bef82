"""Page images for the in-browser preview, page counts, and the download watermark (水印).

Everything that parses an uploaded file runs in the bounded child process of
:mod:`qiyue.documents.extract` (time, memory and output caps), so a hostile PDF or image
cannot take the web process down; failures raise :class:`RenderError` with a stable
``code`` (the same codes and messages as :data:`qiyue.documents.extract.REASONS`).

Pages are numbered from 1. Limits: ``width_px`` 16…4000, rendered pages at most 40
megapixels (very tall pages are scaled down), images at most 100 megapixels, 20 s per
call by default.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.utils.translation import gettext

from qiyue.documents.extract import MAX_IMAGE_PIXELS, reason_message, run_worker
from qiyue.documents.sniff import FileKind, Kind
from qiyue.documents.watermark_image import find_cjk_font, watermark_png

__all__ = [
    "RenderError",
    "page_count",
    "render_page_png",
    "watermark_image_png",
    "watermark_pdf",
]

RENDER_MAX_PIXELS = 40_000_000
MAX_WIDTH_PX = 4000


class RenderError(Exception):
    """A page could not be rendered or a PDF not watermarked. ``str()`` is English."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(reason_message(code))

    @property
    def user_message(self) -> str:
        return gettext(reason_message(self.code))


def _run(request: dict[str, object], *, timeout_s: float, memory_mb: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="qiyue-render-") as tmp:
        workdir = Path(tmp)
        request = {**request, "out": str(workdir / "page.png")}
        result = run_worker(request, workdir=workdir, timeout_s=timeout_s, memory_mb=memory_mb)
        if not result.ok:
            raise RenderError(result.code, result.detail)
        if request["op"] == "render":
            return {**result.data, "png": (workdir / "page.png").read_bytes()}
        return result.data


def _check_kind(kind: FileKind) -> None:
    if not kind.can_preview:
        raise RenderError("unsupported_kind", kind.kind.value)


def render_page_png(
    path: Path,
    kind: FileKind,
    *,
    page: int,
    width_px: int = 1200,
    timeout_s: float = 20,
    memory_mb: int = 1024,
) -> bytes:
    """PNG bytes of page ``page`` (1-based) of a PDF or image, ``width_px`` wide.

    Images are EXIF-rotated and never enlarged; multi-page TIFFs count frames as pages.
    Raises :class:`RenderError` (``page_out_of_range``, ``password``, ``damaged``,
    ``image_too_large``, ``timeout``, ``out_of_memory``, ``unsupported_kind``).
    """
    _check_kind(kind)
    data = _run(
        {
            "op": "render",
            "kind": "pdf" if kind.kind is Kind.PDF else "image",
            "path": str(Path(path).resolve()),
            "page": int(page),
            "width_px": max(16, min(int(width_px), MAX_WIDTH_PX)),
            "max_pixels": RENDER_MAX_PIXELS if kind.kind is Kind.PDF else MAX_IMAGE_PIXELS,
        },
        timeout_s=timeout_s,
        memory_mb=memory_mb,
    )
    png = data["png"]
    assert isinstance(png, bytes)
    return png


def page_count(path: Path, kind: FileKind, *, timeout_s: float = 20) -> int | None:
    """Number of pages of a PDF (frames of an image); None for other kinds or bad files."""
    if not kind.can_preview:
        return None
    try:
        data = _run(
            {
                "op": "count",
                "kind": "pdf" if kind.kind is Kind.PDF else "image",
                "path": str(Path(path).resolve()),
                "max_pixels": MAX_IMAGE_PIXELS,
            },
            timeout_s=timeout_s,
            memory_mb=1024,
        )
    except RenderError:
        return None
    pages = data.get("pages")
    return pages if isinstance(pages, int) else None


def watermark_pdf(
    src_path: Path,
    dst_path: Path,
    *,
    text: str,
    timeout_s: float = 60,
    memory_mb: int = 1536,
) -> None:
    """Write a copy of the PDF at ``src_path`` to ``dst_path`` with ``text`` stamped
    diagonally and semi-transparently across every page (e.g. "张伟 sales1 2026-11-26
    18:30").

    The stamp is an image drawn once with a CJK font (Noto Sans CJK when installed,
    otherwise Pillow's Latin font with ``?`` for what it cannot draw) and shared by all
    pages as one form XObject, so the file grows by tens of kilobytes whatever the page
    count. Existing digital signatures are invalidated by the rewrite. Raises
    :class:`RenderError` (``password``, ``damaged``, ``timeout``, ``out_of_memory``).
    """
    font = find_cjk_font()
    _run(
        {
            "op": "watermark",
            "src": str(Path(src_path).resolve()),
            "dst": str(Path(dst_path).resolve()),
            "text": text,
            "font": font[0] if font else None,
            "font_index": font[1] if font else 0,
        },
        timeout_s=timeout_s,
        memory_mb=memory_mb,
    )


def watermark_image_png(png_bytes: bytes, text: str) -> bytes:
    """Stamp ``text`` over a preview PNG (as made by :func:`render_page_png`)."""
    return watermark_png(png_bytes, text, max_pixels=RENDER_MAX_PIXELS)
