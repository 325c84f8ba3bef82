"""Text extraction returns the text of good files page by page, and ends every bad file
as a clean failure with a reason — never an exception, a crash or a hang."""

from __future__ import annotations

import difflib
import re
import shutil
import time
import zipfile
from pathlib import Path

import docx
import pytest

from qiyue.documents import extract as extract_module
from qiyue.documents.extract import Method, Status, extract_text
from qiyue.documents.sniff import KINDS, Kind, sniff_path

from .doc_files import (
    CUAD_PDF,
    encrypted_pdf_bytes,
    flate_bomb_pdf,
    image_pdf,
    pdf_bytes,
    png_bomb,
    png_bytes,
    text_image,
)

PDF, DOCX, PNG, TEXT = KINDS[Kind.PDF], KINDS[Kind.DOCX], KINDS[Kind.PNG], KINDS[Kind.TEXT]
needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract is not installed"
)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pdf_text_is_extracted_per_page(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.pdf", pdf_bytes(["Master Services Agreement", "Governing law"]))
    result = extract_text(path, PDF)
    assert result.status is Status.OK
    assert result.method is Method.PDFIUM
    assert [(p.number, p.text.strip()) for p in result.pages] == [
        (1, "Master Services Agreement"),
        (2, "Governing law"),
    ]
    assert result.page_of(result.text.index("Governing")) == 2
    assert result.reason == ""


def test_temporary_files_are_removed(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.pdf", pdf_bytes(["hello"]))
    work = tmp_path / "work"
    work.mkdir()
    extract_text(path, PDF, workdir=work)
    assert list(work.iterdir()) == []


@pytest.mark.skipif(not CUAD_PDF.is_dir(), reason="shared CUAD data not present")
def test_real_contract_pdf_matches_its_reference_text() -> None:
    pdf = min(CUAD_PDF.iterdir(), key=lambda p: p.stat().st_size)
    txt = CUAD_PDF.parent / "txt" / (pdf.stem + ".txt")
    if not txt.exists():
        pytest.skip("reference text missing")
    result = extract_text(pdf, sniff_path(pdf))
    assert result.status is Status.OK
    ratio = difflib.SequenceMatcher(
        None, " ".join(result.text.split()), " ".join(txt.read_text("utf-8").split())
    ).ratio()
    assert ratio > 0.9


def test_max_chars_truncates_and_says_so(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.pdf", pdf_bytes(["A" * 60, "B" * 60]))
    result = extract_text(path, PDF, max_chars=50)
    assert result.status is Status.OK
    assert result.truncated and result.reason_code == "truncated"
    assert sum(len(page.text) for page in result.pages) == 50
    assert result.text.startswith("A" * 50)


def test_docx_paragraphs_and_tables_come_in_document_order(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("第一条 合同标的")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "项目", "金额"
    table.cell(1, 0).text, table.cell(1, 1).text = "软件许可", "100,000元"
    document.add_paragraph("第二条 付款方式")
    path = tmp_path / "c.docx"
    document.save(str(path))
    result = extract_text(path, DOCX)
    assert result.status is Status.OK and result.method is Method.DOCX
    assert result.text.split("\n") == [
        "第一条 合同标的",
        "项目\t金额",
        "软件许可\t100,000元",
        "第二条 付款方式",
    ]


def test_plain_text_in_gb18030_is_decoded(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.txt", "甲方：北京甲乙科技有限公司\r\n".encode("gb18030"))
    result = extract_text(path, TEXT)
    assert result.status is Status.OK and result.method is Method.TEXT
    assert result.text == "甲方：北京甲乙科技有限公司\n"


def test_undecodable_text_fails_cleanly(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.txt", b"\xff\xfe\xfd\x81\x30" * 10)
    result = extract_text(path, TEXT)
    assert (result.status, result.reason_code) == (Status.FAILED, "encoding")


def test_empty_pdf_page_is_empty_not_failed(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.pdf", pdf_bytes([""]))
    assert extract_text(path, PDF).status is Status.EMPTY


# --- bad files -------------------------------------------------------------------------


def test_truncated_pdf_fails_cleanly(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.pdf", pdf_bytes(["hello"])[:40])
    result = extract_text(path, PDF)
    assert (result.status, result.reason_code) == (Status.FAILED, "damaged")
    assert result.reason


def test_pdf_cut_in_half_never_raises(tmp_path: Path) -> None:
    data = pdf_bytes(["first page", "second page"])
    path = _write(tmp_path, "t.pdf", data[: len(data) // 2])
    assert extract_text(path, PDF).status in (Status.OK, Status.EMPTY, Status.FAILED)


def test_password_protected_pdf_fails_with_its_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, "locked.pdf", encrypted_pdf_bytes())
    result = extract_text(path, PDF)
    assert (result.status, result.reason_code) == (Status.FAILED, "password")
    assert "password-protected" in result.reason


def test_html_renamed_pdf_fails_cleanly_even_if_passed_as_pdf(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.pdf", b"<html><script>alert(1)</script></html>")
    assert extract_text(path, PDF).status is Status.FAILED


def test_docx_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\x00" * (30 * 1024 * 1024))
    started = time.monotonic()
    result = extract_text(path, DOCX)
    assert (result.status, result.reason_code) == (Status.FAILED, "zip_bomb")
    assert "zip bomb" in result.reason
    assert time.monotonic() - started < 2


def test_docx_above_the_total_size_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.docx"
    document = docx.Document()
    document.add_paragraph("x" * 10_000)
    document.save(str(path))
    result = extract_text(path, DOCX, zip_max_total=5_000)
    assert result.reason_code == "zip_bomb"


def test_pdf_flate_bomb_fails_or_ends_within_the_memory_cap(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.pdf", flate_bomb_pdf(300))
    started = time.monotonic()
    result = extract_text(path, PDF, memory_mb=256, timeout_s=20)
    assert result.status in (Status.FAILED, Status.EMPTY)
    if result.status is Status.FAILED:
        assert result.reason_code in ("out_of_memory", "crashed", "damaged")
    assert time.monotonic() - started < 20


def test_a_parser_that_takes_too_long_is_killed(tmp_path: Path) -> None:
    # 20,000 pages take ~0.75 s to read on a quick machine, 15x the time allowed (one
    # page took less than the 0.05 s on one run).
    path = _write(tmp_path, "a.pdf", pdf_bytes([f"page {i}" for i in range(20_000)]))
    started = time.monotonic()
    result = extract_text(path, PDF, timeout_s=0.05)
    assert (result.status, result.reason_code) == (Status.FAILED, "timeout")
    assert time.monotonic() - started < 5


def test_png_decompression_bomb_fails_cleanly(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.png", png_bomb(100_000, 100_000))
    result = extract_text(path, PNG)
    assert (result.status, result.reason_code) == (Status.FAILED, "image_too_large")


# --- OCR --------------------------------------------------------------------------------


@needs_tesseract
def test_ocr_reads_chinese_and_english_from_an_image(tmp_path: Path) -> None:
    image = text_image(["甲方：北京甲乙科技有限公司", "Party B: Acme Corporation"])
    path = _write(tmp_path, "scan.png", png_bytes(image))
    result = extract_text(path, PNG)
    assert result.status is Status.OK and result.method is Method.OCR
    compact = _compact(result.text)
    assert "北京甲乙科技有限公司" in compact
    assert "AcmeCorporation" in compact


@needs_tesseract
def test_image_only_pdf_pages_go_through_ocr(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    image_pdf(path, text_image(["合同编号 XS-2026-00001", "Total amount 100,000"]))
    result = extract_text(path, PDF)
    assert result.status is Status.OK
    assert result.pages[0].method is Method.OCR and result.ocr_pages == 1
    assert "XS-2026-00001" in result.text
    assert "合同编号" in _compact(result.text)


def test_without_tesseract_scans_are_marked_ocr_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(extract_module, "ocr_available", lambda: None)
    png = _write(tmp_path, "scan.png", png_bytes(text_image(["合同"], size=(200, 100))))
    result = extract_text(png, PNG)
    assert (result.status, result.reason_code) == (Status.OCR_UNAVAILABLE, "ocr_unavailable")
    assert "OCR" in result.reason
    pdf = tmp_path / "scan.pdf"
    image_pdf(pdf, text_image(["合同"], size=(200, 100)))
    assert extract_text(pdf, PDF).status is Status.OCR_UNAVAILABLE


def test_ocr_can_be_turned_off(tmp_path: Path) -> None:
    png = _write(tmp_path, "scan.png", png_bytes(text_image(["x"], size=(50, 50))))
    result = extract_text(png, PNG, ocr=False)
    assert (result.status, result.reason_code) == (Status.EMPTY, "ocr_disabled")


def test_unsupported_kinds_fail_with_a_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    result = extract_text(path, KINDS[Kind.DOC])
    assert (result.status, result.reason_code) == (Status.FAILED, "unsupported_kind")


def test_reasons_are_plain_english_strings() -> None:
    assert all(isinstance(v, str) and v.endswith(".") for v in extract_module.REASONS.values())
