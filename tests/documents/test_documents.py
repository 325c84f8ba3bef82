"""Documents of contracts: upload (new documents and versions), download and preview with
watermarks, access, refusals that leave nothing behind, and the audit trail."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docx
import pypdfium2 as pdfium
import pytest
from django.http import Http404

from qiyue.audit.models import AuditEvent
from qiyue.documents import content
from qiyue.documents.actions import DocumentError, NotAllowed, upload_document
from qiyue.documents.blobs import Blob
from qiyue.documents.models import Document, DocumentVersion
from qiyue.documents.queries import document_for, documents_for, version_for
from tests.factories import make_contract

from .doc_files import pdf_bytes, png_bytes, text_image


@pytest.fixture
def docs(settings: Any, tmp_path: Path, keyring: Any) -> Path:
    """A private data folder with local blob storage; returns the data folder."""
    data = tmp_path / "data"
    settings.DATA_DIR = data
    settings.FILE_UPLOAD_TEMP_DIR = data / "tmp"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(data / "blobs"), "file_permissions_mode": 0o600},
        },
    }
    return data


def docx_bytes(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def body(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


def upload(user: Any, contract: Any, data: bytes, name: str, **kwargs: Any) -> DocumentVersion:
    return upload_document(
        actor=user, contract=contract, fileobj=io.BytesIO(data), name=name, **kwargs
    )


def leftovers(data_dir: Path) -> list[str]:
    return sorted(
        p.relative_to(data_dir).as_posix()
        for sub in ("blobs", "tmp")
        if (data_dir / sub).exists()
        for p in (data_dir / sub).rglob("*")
        if p.is_file()
    )


@pytest.mark.parametrize(
    ("name", "make", "mime"),
    [
        ("合同.pdf", lambda: pdf_bytes(["Supply agreement"]), "application/pdf"),
        ("合同.docx", lambda: docx_bytes("供货合同"), "wordprocessingml"),
        ("scan.png", lambda: png_bytes(text_image(["x"], size=(200, 100))), "image/png"),
    ],
)
def test_an_upload_downloads_byte_for_byte_when_not_watermarked(
    org: SimpleNamespace, docs: Path, name: str, make: Any, mime: str
) -> None:
    contract = make_contract(org.sales1, confidentiality="public")
    data = make()
    version = upload(org.sales1, contract, data, name, note="first draft")
    assert version.number == 1
    assert version.document.title == name
    assert version.size == len(data)
    assert mime in version.mime
    response = content.download_response(org.sales1, version_for(org.sales1, version.pk))
    assert body(response) == data
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" in response["Content-Disposition"] or name.isascii()
    assert mime in response["Content-Type"]


def test_a_pdf_of_an_internal_contract_downloads_watermarked(
    org: SimpleNamespace, docs: Path
) -> None:
    contract = make_contract(org.sales1, confidentiality="internal")
    data = pdf_bytes(["Page one", "Page two"])
    version = upload(org.sales1, contract, data, "a.pdf")
    got = body(content.download_response(org.sales1, version))
    assert got != data
    assert got.startswith(b"%PDF")
    assert len(pdfium.PdfDocument(got)) == 2
    assert leftovers(docs) == [f"blobs/{version.blob.storage_name}"]


def test_a_new_version_increments_the_number_and_same_bytes_reuse_the_blob(
    org: SimpleNamespace, docs: Path
) -> None:
    contract = make_contract(org.sales1)
    first = upload(org.sales1, contract, pdf_bytes(["v1"]), "a.pdf")
    second = upload(org.sales1, contract, pdf_bytes(["v2"]), "a2.pdf", document=first.document)
    third = upload(org.sales1, contract, pdf_bytes(["v1"]), "a.pdf", document=first.document)
    assert [first.number, second.number, third.number] == [1, 2, 3]
    assert third.blob_id == first.blob_id != second.blob_id
    assert Blob.objects.count() == 2
    assert Document.objects.get().last_number == 3
    document = document_for(org.sales1, first.document_id)
    assert [v.number for v in document.versions.all()] == [3, 2, 1]
    assert document.latest.number == 3  # type: ignore[attr-defined]


def test_a_version_of_another_contracts_document_is_refused(
    org: SimpleNamespace, docs: Path
) -> None:
    one, other = make_contract(org.sales1), make_contract(org.sales1)
    first = upload(org.sales1, one, pdf_bytes(["v1"]), "a.pdf")
    with pytest.raises(DocumentError) as exc:
        upload(org.sales1, other, pdf_bytes(["v2"]), "b.pdf", document=first.document)
    assert exc.value.code == "not_found"


def test_documents_for_lists_latest_versions_in_constant_queries(
    org: SimpleNamespace, docs: Path, django_assert_max_num_queries: Any
) -> None:
    contract = make_contract(org.sales1)
    main = upload(org.sales1, contract, pdf_bytes(["main"]), "main.pdf")
    upload(org.sales1, contract, pdf_bytes(["main 2"]), "main2.pdf", document=main.document)
    upload(org.sales1, contract, b"annex text", "annex.txt", kind="attachment")
    upload(org.sales1, contract, b"signed", "scan.txt", kind="signed_scan")
    with django_assert_max_num_queries(4):
        documents = documents_for(org.sales1, contract)
        latest = [(d.kind, d.latest.number, d.latest.uploaded_by.username) for d in documents]
    assert latest == [
        ("main", 2, "sales1"),
        ("attachment", 1, "sales1"),
        ("signed_scan", 1, "sales1"),
    ]


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        (
            "invoice.pdf",
            b"<!DOCTYPE html><html><script>alert(1)</script></html>",
            "unsupported_type",
        ),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "unsupported_type",
        ),
        ("empty.pdf", b"", "unsupported_type"),
        ("big.txt", b"x" * 5000, "too_large"),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(
    org: SimpleNamespace, docs: Path, settings: Any, name: str, data: bytes, code: str
) -> None:
    settings.UPLOAD_MAX_BYTES = 4096
    contract = make_contract(org.sales1)
    with pytest.raises(DocumentError) as exc:
        upload(org.sales1, contract, data, name)
    assert exc.value.code == code
    assert exc.value.message
    assert not Document.objects.exists()
    assert not DocumentVersion.objects.exists()
    assert not Blob.objects.exists()
    assert leftovers(docs) == []
    assert not AuditEvent.objects.filter(action="document.uploaded").exists()


def test_an_upload_with_a_known_size_above_the_limit_is_refused_before_reading(
    org: SimpleNamespace, docs: Path, settings: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 10

    class Declared(io.BytesIO):
        size = 11

    contract = make_contract(org.sales1)
    with pytest.raises(DocumentError) as exc:
        upload_document(actor=org.sales1, contract=contract, fileobj=Declared(b""), name="a.txt")
    assert exc.value.code == "too_large"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\a.txt", "a.txt"),
        ("长" * 100 + "a" * 100 + ".txt", "长" * 100 + "a" * 96 + ".txt"),
        ("\u202egnp.exe", "gnp.exe"),
    ],
)
def test_original_names_are_kept_only_as_safe_display_names(
    org: SimpleNamespace, docs: Path, name: str, expected: str
) -> None:
    contract = make_contract(org.sales1, confidentiality="public")
    version = upload(org.sales1, contract, b"plain text", name)
    assert version.display_name == expected
    assert "/" not in version.blob.storage_name.split("/", 1)[1]
    assert expected not in version.blob.storage_name
    disposition = content.download_response(org.sales1, version)["Content-Disposition"]
    assert ".." not in disposition and "\\" not in disposition


def test_the_download_name_carries_the_real_extension(org: SimpleNamespace, docs: Path) -> None:
    contract = make_contract(org.sales1, confidentiality="public")
    version = upload(org.sales1, contract, b"plain text", "report.exe")
    assert content.download_name(version) == "report.exe.txt"
    assert version.mime.startswith("text/plain")


def test_an_outsider_finds_no_documents(org: SimpleNamespace, docs: Path) -> None:
    contract = make_contract(org.sales1)
    version = upload(org.sales1, contract, pdf_bytes(["x"]), "a.pdf")
    with pytest.raises(Http404):
        documents_for(org.sales2, contract)
    with pytest.raises(Http404):
        document_for(org.sales2, version.document_id)
    with pytest.raises(Http404):
        version_for(org.sales2, version.pk)
    with pytest.raises(NotAllowed):
        upload(org.sales2, contract, pdf_bytes(["y"]), "b.pdf")


def test_a_viewer_may_download_but_not_upload(org: SimpleNamespace, docs: Path) -> None:
    contract = make_contract(org.sales1, confidentiality="public")
    version = upload(org.sales1, contract, b"contract text", "a.txt")
    visible = version_for(org.viewer, version.pk)
    assert body(content.download_response(org.viewer, visible)) == b"contract text"
    with pytest.raises(NotAllowed) as exc:
        upload(org.viewer, contract, b"more", "b.txt")
    assert exc.value.code == "forbidden"
    with pytest.raises(Http404):
        version_for(org.viewer, version.pk, "change")


def test_an_archived_contract_refuses_uploads(org: SimpleNamespace, docs: Path) -> None:
    contract = make_contract(org.sales1, state="archived")
    with pytest.raises(DocumentError) as exc:
        upload(org.admin, contract, b"late", "late.txt")
    assert exc.value.code == "archived"
    assert not Blob.objects.exists()


def test_uploads_downloads_and_previews_are_audited(org: SimpleNamespace, docs: Path) -> None:
    contract = make_contract(org.sales1)
    version = upload(org.sales1, contract, pdf_bytes(["one", "two"]), "a.pdf")
    content.download_response(org.viewer, version)
    png = content.preview_page_png(org.viewer, version, 1, width_px=400)
    assert png.startswith(b"\x89PNG")
    content.preview_page_png(org.viewer, version, 2, width_px=400)  # not audited
    events = list(
        AuditEvent.objects.filter(target_type="contract", target_id=str(contract.pk))
        .filter(action__startswith="document.")
        .order_by("id")
        .values_list("action", "actor_name", "data")
    )
    assert [(a, who) for a, who, _data in events] == [
        ("document.uploaded", "sales1"),
        ("document.downloaded", "viewer"),
        ("document.previewed", "viewer"),
    ]
    uploaded = events[0][2]
    assert uploaded["sha256"] == version.sha256
    assert uploaded["version"] == 1 and uploaded["name"] == "a.pdf"
    assert uploaded["size"] == version.size


def test_previews_refuse_other_kinds_and_missing_pages(org: SimpleNamespace, docs: Path) -> None:
    contract = make_contract(org.sales1)
    pdf = upload(org.sales1, contract, pdf_bytes(["one"]), "a.pdf")
    with pytest.raises(Http404):
        content.preview_page_png(org.sales1, pdf, 5)
    with pytest.raises(Http404):
        content.preview_page_png(org.sales1, pdf, 0)
    text = upload(org.sales1, contract, b"plain", "a.txt")
    with pytest.raises(DocumentError) as exc:
        content.preview_page_png(org.sales1, text, 1)
    assert exc.value.code == "no_preview"
    image = upload(org.sales1, contract, png_bytes(text_image(["x"], size=(300, 100))), "i.png")
    assert content.preview_page_png(org.sales1, image, 1, width_px=200).startswith(b"\x89PNG")
    assert leftovers(docs) == sorted(
        f"blobs/{name}" for name in Blob.objects.values_list("storage_name", flat=True)
    )


@pytest.mark.parametrize("backend", ["s3"], indirect=True)
def test_an_upload_round_trips_through_s3(org: SimpleNamespace, backend: Any) -> None:
    contract = make_contract(org.sales1, confidentiality="public")
    data = pdf_bytes(["Stored in the bucket"])
    version = upload(org.sales1, contract, data, "s3.pdf")
    stored = backend.files()
    assert list(stored) == [version.blob.storage_name]
    assert b"Stored in the bucket" not in stored[version.blob.storage_name]
    assert body(content.download_response(org.sales1, version)) == data


def test_the_upload_temp_folder_is_private(docs: Path, settings: Any) -> None:
    from qiyue.documents.actions import private_tmp_dir

    path = private_tmp_dir()
    assert path == docs / "tmp"
    assert path.stat().st_mode & 0o077 == 0
    shutil.rmtree(path)


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_versions_get_distinct_numbers(
    org: SimpleNamespace, docs: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    contract = make_contract(org.sales1)
    first = upload(org.sales1, contract, b"v1", "a.txt")

    def add(n: int) -> int:
        try:
            version = upload(
                org.sales1, contract, f"v{n}".encode(), "a.txt", document=first.document
            )
            return version.number
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        numbers = sorted(pool.map(add, range(2, 8)))
    assert numbers == [2, 3, 4, 5, 6, 7]
    assert Document.objects.get().last_number == 7
