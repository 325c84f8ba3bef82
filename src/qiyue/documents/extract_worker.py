"""The child process that parses untrusted document files.

Run as ``python -m qiyue.documents.extract_worker REQUEST.json`` by
:func:`qiyue.documents.extract.run_worker`; never imported by the web process. It caps
its own address space, CPU time and file sizes before importing any parser, does one
operation (``extract``, ``render``, ``count``, ``watermark``) and writes its answer as
JSON to the ``result`` path named in the request. A crash, a ``MemoryError`` or a kill
on timeout only ends this process; the parent turns it into a clean failure.

Deliberately free of Django and of the rest of Qiyue, so it starts fast and a bug in a
parser can touch nothing but its private temporary directory.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Tesseract parallelises with OpenMP; one thread keeps it inside the memory cap and
# leaves the other cores to other jobs.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


class Failure(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


def _limit(memory_mb: int, cpu_s: int, fsize_mb: int) -> None:
    mem = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 5))
    fsize = fsize_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# ---------------------------------------------------------------------------------------
# PDF


def _open_pdf(path: str) -> Any:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if (
            pdfium_c.FPDF_GetLastError() == pdfium_c.FPDF_ERR_PASSWORD
            or "password" in str(exc).lower()
        ):
            raise Failure("password", str(exc)) from exc
        raise Failure("damaged", str(exc)) from exc


def _page_has_images(page: Any) -> bool:
    import pypdfium2.raw as pdfium_c

    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4))


def _render_pdf_page(page: Any, *, scale: float, max_pixels: int) -> Any:
    width, height = page.get_size()
    pixels = width * scale * height * scale
    if pixels > max_pixels:
        scale *= (max_pixels / pixels) ** 0.5
    return page.render(scale=scale, may_draw_forms=True).to_pil()


def _extract_pdf(req: dict[str, Any], deadline: float) -> dict[str, Any]:
    pdf = _open_pdf(req["path"])
    pages: list[list[Any]] = []
    total = 0
    need_ocr = 0
    ocr_done = 0
    notes: list[str] = []
    max_chars = req["max_chars"]
    tesseract = req.get("tesseract") if req.get("ocr") else None
    for index in range(len(pdf)):
        if time.monotonic() > deadline:
            notes.append("time_limit")
            break
        page = pdf[index]
        textpage = page.get_textpage()
        text = _clean(textpage.get_text_range())
        method = "pdfium"
        if len(re.sub(r"\s", "", text)) < 3 and _page_has_images(page):
            need_ocr += 1
            if tesseract:
                image = _render_pdf_page(
                    page, scale=req["dpi"] / 72, max_pixels=req["ocr_max_pixels"]
                )
                ocr_text = _ocr(image, req, deadline, f"p{index + 1}")
                if ocr_text is None:
                    notes.append("time_limit")
                    break
                text, method = ocr_text, "ocr"
                ocr_done += 1
        text = text[: max_chars - total]
        total += len(text)
        pages.append([index + 1, text, method])
        if total >= max_chars:
            notes.append("truncated")
            break
    return {"pages": pages, "need_ocr": need_ocr, "ocr_done": ocr_done, "notes": notes}


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text.strip("\n")


# ---------------------------------------------------------------------------------------
# OCR

# Tesseract's chi_sim model puts a space between neighbouring Chinese characters.
_CJK = r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK})[ \t]+(?={_CJK})")


def _ocr(image: Any, req: dict[str, Any], deadline: float, stem: str) -> str | None:
    """Text of a Pillow image via the tesseract binary, or None when out of time."""
    remaining = deadline - time.monotonic()
    if remaining < 1:
        return None
    image_path = Path(req["workdir"]) / f"ocr-{stem}.png"
    if image.mode not in ("1", "L", "RGB"):
        image = image.convert("RGB")
    image.save(image_path, format="PNG")
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [req["tesseract"], str(image_path), "stdout", "-l", req["lang"], "--psm", "3"],
            capture_output=True,
            timeout=remaining,
            check=False,
            cwd=req["workdir"],
        )
    except subprocess.TimeoutExpired:
        return None
    finally:
        image_path.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise Failure("ocr_failed", proc.stderr.decode("utf-8", "replace")[-500:])
    text = proc.stdout.decode("utf-8", "replace")
    text = _CJK_GAP.sub("", text)
    return _clean(re.sub(r"\n{3,}", "\n\n", text))


# ---------------------------------------------------------------------------------------
# images


def _open_image(path: str, max_pixels: int) -> Any:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise Failure("image_too_large", str(exc)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise Failure("damaged", str(exc)) from exc
    if image.width * image.height > max_pixels:
        raise Failure("image_too_large", f"{image.width}×{image.height} pixels")
    return image


def _frames(image: Any, max_frames: int) -> Any:
    from PIL import ImageOps

    for index in range(min(getattr(image, "n_frames", 1), max_frames)):
        image.seek(index)
        frame = ImageOps.exif_transpose(image.copy())
        yield index, frame


def _load_frame(frame: Any, max_pixels: int) -> Any:
    from PIL import Image

    try:
        frame.load()
    except Image.DecompressionBombError as exc:
        raise Failure("image_too_large", str(exc)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise Failure("damaged", str(exc)) from exc
    if frame.width * frame.height > max_pixels:
        frame.thumbnail((10_000, 10_000))
    return frame


def _extract_image(req: dict[str, Any], deadline: float) -> dict[str, Any]:
    image = _open_image(req["path"], req["max_pixels"])
    tesseract = req.get("tesseract") if req.get("ocr") else None
    frames = getattr(image, "n_frames", 1)
    if not tesseract:
        return {"pages": [], "need_ocr": frames, "ocr_done": 0, "notes": []}
    pages: list[list[Any]] = []
    notes: list[str] = []
    total = 0
    for index, frame in _frames(image, req["max_frames"]):
        frame = _load_frame(frame, req["ocr_max_pixels"])
        text = _ocr(frame, req, deadline, f"f{index + 1}")
        if text is None:
            notes.append("time_limit")
            break
        text = text[: req["max_chars"] - total]
        total += len(text)
        pages.append([index + 1, text, "ocr"])
        if total >= req["max_chars"]:
            notes.append("truncated")
            break
    return {"pages": pages, "need_ocr": frames, "ocr_done": len(pages), "notes": notes}


# ---------------------------------------------------------------------------------------
# DOCX


def _extract_docx(req: dict[str, Any], deadline: float) -> dict[str, Any]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(req["path"])
    except Exception as exc:  # python-docx raises many types for a bad package
        raise Failure("damaged", f"{type(exc).__name__}: {exc}") from exc
    parts: list[str] = []
    total = 0
    notes: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(child, document).text
        elif tag == "tbl":
            text = _table_text(Table(child, document))
        else:
            continue
        parts.append(text)
        total += len(text) + 1
        if total >= req["max_chars"]:
            notes.append("truncated")
            break
        if time.monotonic() > deadline:
            notes.append("time_limit")
            break
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(parts)).strip("\n")[: req["max_chars"]]
    return {"pages": [[1, text, "docx"]], "need_ocr": 0, "ocr_done": 0, "notes": notes}


def _table_text(table: Any) -> str:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:  # merged cells repeat: keep each once
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            inner = [cell.text.strip()]
            inner += [_table_text(t) for t in cell.tables]
            cells.append(" ".join(s for s in inner if s).replace("\n", " "))
        rows.append("\t".join(cells))
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------
# preview rendering and page counts


def _render(req: dict[str, Any]) -> dict[str, Any]:
    kind, number, width = req["kind"], req["page"], req["width_px"]
    out = Path(req["out"])
    if kind == "pdf":
        pdf = _open_pdf(req["path"])
        count = len(pdf)
        if not 1 <= number <= count:
            raise Failure("page_out_of_range", f"page {number} of {count}")
        page = pdf[number - 1]
        page_width = page.get_width()
        if page.get_rotation() in (90, 270):
            page_width = page.get_height()
        image = _render_pdf_page(
            page, scale=width / max(page_width, 1), max_pixels=req["max_pixels"]
        )
    else:
        image = _open_image(req["path"], req["max_pixels"])
        count = getattr(image, "n_frames", 1)
        if not 1 <= number <= count:
            raise Failure("page_out_of_range", f"page {number} of {count}")
        image.seek(number - 1)
        if image.format == "JPEG":
            image.draft("RGB", (width, width * 20))
        from PIL import ImageOps

        image = _load_frame(ImageOps.exif_transpose(image.copy()), req["max_pixels"])
        if image.width > width:
            image.thumbnail((width, max(1, image.height * width // image.width)))
        if image.mode not in ("1", "L", "LA", "RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    image.save(out, format="PNG", optimize=False)
    return {"pages": count}


def _count(req: dict[str, Any]) -> dict[str, Any]:
    if req["kind"] == "pdf":
        return {"pages": len(_open_pdf(req["path"]))}
    image = _open_image(req["path"], req["max_pixels"])
    return {"pages": getattr(image, "n_frames", 1)}


# ---------------------------------------------------------------------------------------
# watermark


def _watermark(req: dict[str, Any]) -> dict[str, Any]:
    import pypdfium2 as pdfium

    from qiyue.documents.watermark_image import tile_layout, watermark_tile

    pdf = _open_pdf(req["src"])
    tile_px = 1600
    tile = watermark_tile(req["text"], tile_px, req.get("font"), req.get("font_index", 0))
    stamp = pdfium.PdfDocument.new()
    side = 600.0
    stamp_page = stamp.new_page(side, side)
    image = pdfium.PdfImage.new(stamp)
    image.set_bitmap(pdfium.PdfBitmap.from_pil(tile))
    image.set_matrix(pdfium.PdfMatrix().scale(side, side))
    stamp_page.insert_obj(image)
    stamp_page.gen_content()
    xobject = stamp.page_as_xobject(0, pdf)
    for index in range(len(pdf)):
        page = pdf[index]
        left, bottom, right, top = page.get_cropbox()
        width, height = right - left, top - bottom
        if width <= 0 or height <= 0:
            continue
        tile_side, spots = tile_layout(width, height)
        scale = tile_side / side
        for dx, dy in spots:
            form = xobject.as_pageobject()
            form.transform(pdfium.PdfMatrix().scale(scale, scale).translate(left + dx, bottom + dy))
            page.insert_obj(form)
        page.gen_content()
    pdf.save(req["dst"])
    return {"pages": len(pdf)}


# ---------------------------------------------------------------------------------------


def _dispatch(req: dict[str, Any]) -> dict[str, Any]:
    op = req["op"]
    deadline = time.monotonic() + req["budget_s"]
    if op == "extract":
        kind = req["kind"]
        if kind == "pdf":
            return _extract_pdf(req, deadline)
        if kind in ("jpeg", "png", "tiff"):
            return _extract_image(req, deadline)
        if kind == "docx":
            return _extract_docx(req, deadline)
        raise Failure("unsupported_kind", kind)
    if op == "render":
        return _render(req)
    if op == "count":
        return _count(req)
    if op == "watermark":
        return _watermark(req)
    raise Failure("unsupported_kind", op)


def main(argv: list[str]) -> int:
    request_path = Path(argv[1])
    req = json.loads(request_path.read_text("utf-8"))
    _limit(req["memory_mb"], req["cpu_s"], req["fsize_mb"])
    if req.get("tesseract") and not shutil.which(req["tesseract"]):
        req["tesseract"] = None
    try:
        answer: dict[str, Any] = {"ok": True, **_dispatch(req)}
    except Failure as exc:
        answer = {"ok": False, "code": exc.code, "detail": exc.detail[:1000]}
    except MemoryError:
        answer = {"ok": False, "code": "out_of_memory", "detail": "MemoryError"}
    except RecursionError as exc:
        answer = {"ok": False, "code": "damaged", "detail": f"RecursionError: {exc}"[:1000]}
    tmp = Path(req["result"] + ".part")
    tmp.write_text(json.dumps(answer, ensure_ascii=False), "utf-8")
    tmp.replace(req["result"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
