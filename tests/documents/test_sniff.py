"""The type of an upload is decided from its bytes, and its name is only cleaned metadata."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest

from qiyue.documents.sniff import (
    Kind,
    UnsupportedFileType,
    ZipBombError,
    check_zip_bounds,
    safe_display_name,
    sniff,
    sniff_path,
)

from .doc_files import pdf_bytes, png_bytes, text_image


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("合同正文")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_pdf_is_recognised_by_its_magic_bytes_whatever_its_name() -> None:
    kind = sniff(pdf_bytes(["hi"]), name="scan.jpg")
    assert (kind.kind, kind.extension, kind.mime) == (Kind.PDF, ".pdf", "application/pdf")


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, Kind.DOC),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", Kind.JPEG),
        (b"II*\x00\x08\x00\x00\x00", Kind.TIFF),
        (b"MM\x00*\x00\x00\x00\x08", Kind.TIFF),
    ],
)
def test_binary_kinds_are_recognised_from_magic_bytes(head: bytes, kind: Kind) -> None:
    assert sniff(head).kind is kind


def test_png_is_recognised() -> None:
    assert sniff(png_bytes(text_image(["x"], size=(20, 20)))).kind is Kind.PNG


def test_docx_xlsx_and_ofd_are_told_apart_by_their_zip_members(tmp_path: Path) -> None:
    assert sniff(_docx_bytes()).kind is Kind.DOCX
    assert sniff(_zip({"xl/workbook.xml": b"<x/>", "[Content_Types].xml": b""})).kind is Kind.XLSX
    assert sniff(_zip({"OFD.xml": b"<ofd/>", "Doc_0/Document.xml": b""})).kind is Kind.OFD
    path = tmp_path / "contract.bin"
    path.write_bytes(_docx_bytes())
    assert sniff_path(path).kind is Kind.DOCX
    assert sniff_path(path).extension == ".docx"


def test_docx_is_recognised_from_the_head_of_the_file_alone() -> None:
    assert sniff(_docx_bytes()[:4096]).kind is Kind.DOCX


def test_plain_zip_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFileType) as caught:
        sniff(_zip({"evil.exe": b"MZ"}))
    assert caught.value.code == "archive"
    path = tmp_path / "a.docx"
    path.write_bytes(_zip({"evil.exe": b"MZ"}))
    with pytest.raises(UnsupportedFileType):
        sniff_path(path)


@pytest.mark.parametrize(
    "text",
    [
        "甲方：北京甲乙科技有限公司\n乙方：上海丙丁有限公司\n",
        "Master Services Agreement\nThis Agreement is made ...\n",
    ],
)
def test_plain_text_in_utf8_or_gb18030_is_accepted(text: str) -> None:
    assert sniff(text.encode("utf-8")).kind is Kind.TEXT
    assert sniff(text.encode("gb18030")).kind is Kind.TEXT


def test_html_renamed_pdf_is_refused_with_a_clear_message() -> None:
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    with pytest.raises(UnsupportedFileType) as caught:
        sniff(html, name="contract.pdf")
    assert caught.value.code == "markup"
    assert "HTML" in str(caught.value)
    assert "contract.pdf" in str(caught.value)


def test_svg_with_script_is_refused() -> None:
    svg = (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>'
    )
    with pytest.raises(UnsupportedFileType) as caught:
        sniff(svg, name="logo.png")
    assert caught.value.code == "markup"


def test_markup_hidden_after_text_is_refused() -> None:
    with pytest.raises(UnsupportedFileType):
        sniff(b"hello\n<svg onload=alert(1)>")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00", "executable"),
        (b"\x7fELF\x02\x01\x01\x00", "executable"),
        (b"#!/bin/sh\nrm -rf /\n", "script"),
        (b"\x00\x01\x02\x03binary", "unknown"),
        (b"", "empty"),
    ],
)
def test_executables_scripts_and_binary_junk_are_refused(data: bytes, code: str) -> None:
    with pytest.raises(UnsupportedFileType) as caught:
        sniff(data, name="x.pdf")
    assert caught.value.code == code


def test_zip_bounds_refuse_a_member_that_inflates_too_much(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    path.write_bytes(_zip({"word/document.xml": b"\x00" * (20 * 1024 * 1024)}))
    with pytest.raises(ZipBombError):
        check_zip_bounds(path)
    with pytest.raises(ZipBombError):
        check_zip_bounds(path, max_total=10 * 1024 * 1024, max_ratio=1e9)
    path.write_bytes(_docx_bytes())
    assert check_zip_bounds(path).members > 3


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("/abs/path/合同.pdf", "合同.pdf"),
        ("inv\u202eoice\u202cfdp.exe", "invoicefdp.exe"),
        ("a\x00b\x1fc.pdf", "abc.pdf"),
        ("  spaced\tname .pdf ", "spaced name .pdf"),
        ("..", "file"),
        ("", "file"),
    ],
)
def test_safe_display_name_strips_paths_controls_and_bidi(original: str, expected: str) -> None:
    assert safe_display_name(original) == expected


def test_safe_display_name_trims_long_names_keeping_the_extension() -> None:
    name = safe_display_name("合" * 300 + ".pdf")
    assert len(name) == 200
    assert name.endswith(".pdf")
    assert safe_display_name("a" * 300) == "a" * 200
