"""Documents over the REST API: multipart upload with a bearer token, lists, download,
extracted text, refusals as JSON, and 404 for contracts the caller may not see."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qiyue.audit.models import AuditEvent
from qiyue.documents.models import Blob, Document
from tests.documents.doc_files import pdf_bytes
from tests.documents.test_documents import docs  # noqa: F401 - the fixture
from tests.factories import make_contract


@pytest.fixture
def keyring(settings: Any) -> Any:
    from qiyue.lib.crypto import Keyring

    ring = Keyring.parse(Keyring.generate_spec("test1"))
    settings.MASTER_KEYRING = ring
    return ring


def post_file(client: Any, contract_id: int, data: bytes, name: str, **fields: Any) -> Any:
    return client.post(
        f"/api/v1/contracts/{contract_id}/documents",
        {"file": SimpleUploadedFile(name, data), **fields},
    )


def body(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return bytes(response.content)


def test_a_multipart_upload_with_a_bearer_token_round_trips(
    org: SimpleNamespace,
    api: Any,
    docs: Path,  # noqa: F811
) -> None:
    contract = make_contract(org.sales1, confidentiality="public")
    client = api(org.sales1)
    data = pdf_bytes(["API upload"])
    response = post_file(client, contract.pk, data, "合同.pdf", note="signed copy", kind="main")
    assert response.status_code == 201, response.content
    version = response.json()
    assert version["number"] == 1
    assert version["name"] == "合同.pdf"
    assert version["mime"] == "application/pdf"
    assert version["size"] == len(data)
    assert version["note"] == "signed copy"
    assert version["uploaded_by"]["username"] == "sales1"
    assert version["text"]["status"] == "pending"
    assert response["Location"] == version["content"]

    listed = client.get(f"/api/v1/contracts/{contract.pk}/documents").json()["items"]
    assert [(d["kind"], d["title"], d["latest"]["id"]) for d in listed] == [
        ("main", "合同.pdf", version["id"])
    ]
    again = post_file(
        client, contract.pk, pdf_bytes(["v2"]), "v2.pdf", document=str(version["document"])
    )
    assert again.status_code == 201, again.content
    assert again.json()["number"] == 2
    versions = client.get(f"/api/v1/documents/{version['document']}/versions").json()["items"]
    assert [v["number"] for v in versions] == [2, 1]

    download = client.get(version["content"])
    assert download.status_code == 200
    assert body(download) == data
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    text = client.get(f"/api/v1/document-versions/{version['id']}/text").json()
    assert text["status"] == "pending" and text["pages"] is None


def test_the_text_endpoint_returns_the_extracted_pages(
    org: SimpleNamespace,
    api: Any,
    docs: Path,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    contract = make_contract(org.sales1)
    client = api(org.sales1)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, contract.pk, "第一条 付款".encode(), "a.txt")
    text = client.get(f"/api/v1/document-versions/{response.json()['id']}/text").json()
    assert text["status"] == "ok"
    assert text["pages"] == [{"number": 1, "text": "第一条 付款", "method": "text"}]


def test_a_pdf_of_an_internal_contract_downloads_watermarked(
    org: SimpleNamespace,
    api: Any,
    docs: Path,  # noqa: F811
) -> None:
    contract = make_contract(org.sales1, confidentiality="internal")
    client = api(org.sales1)
    data = pdf_bytes(["internal"])
    version = post_file(client, contract.pk, data, "a.pdf").json()
    download = client.get(version["content"])
    assert download.status_code == 200
    got = body(download)
    assert got.startswith(b"%PDF") and got != data
    assert AuditEvent.objects.filter(action="document.downloaded").count() == 1


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"<html><body>fake</body></html>", "fake.pdf", 415, "unsupported_type"),
        (b"MZ\x90\x00" + b"\x00" * 100, "setup.pdf", 415, "unsupported_type"),
        (b"x" * 3000, "big.txt", 413, "too_large"),
    ],
)
def test_refused_uploads_answer_json_and_leave_nothing(
    org: SimpleNamespace,
    api: Any,
    docs: Path,  # noqa: F811
    settings: Any,
    data: bytes,
    name: str,
    status: int,
    code: str,
) -> None:
    settings.UPLOAD_MAX_BYTES = 2048
    contract = make_contract(org.sales1)
    response = post_file(api(org.sales1), contract.pk, data, name)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert not Document.objects.exists() and not Blob.objects.exists()
    assert not [p for p in docs.rglob("*") if p.is_file()]


def test_an_upload_without_a_file_is_invalid(
    org: SimpleNamespace,
    api: Any,
    docs: Path,  # noqa: F811
) -> None:
    contract = make_contract(org.sales1)
    response = api(org.sales1).post(f"/api/v1/contracts/{contract.pk}/documents", {"note": "x"})
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_an_outsider_gets_404_everywhere(
    org: SimpleNamespace,
    api: Any,
    docs: Path,  # noqa: F811
) -> None:
    contract = make_contract(org.sales1)
    version = post_file(api(org.sales1), contract.pk, b"secret text", "a.txt").json()
    outsider = api(org.sales2)
    for path in (
        f"/api/v1/contracts/{contract.pk}/documents",
        f"/api/v1/documents/{version['document']}/versions",
        f"/api/v1/document-versions/{version['id']}/content",
        f"/api/v1/document-versions/{version['id']}/text",
    ):
        response = outsider.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    response = post_file(outsider, contract.pk, b"mine", "b.txt")
    assert response.status_code == 404
    response = post_file(
        api(org.sales1), make_contract(org.sales1).pk, b"x", "c.txt", document=version["document"]
    )
    assert response.status_code == 404


def test_a_viewer_may_download_but_not_upload(
    org: SimpleNamespace,
    api: Any,
    docs: Path,  # noqa: F811
) -> None:
    contract = make_contract(org.sales1, confidentiality="public")
    version = post_file(api(org.sales1), contract.pk, b"contract text", "a.txt").json()
    viewer = api(org.viewer)
    assert body(viewer.get(version["content"])) == b"contract text"
    response = post_file(viewer, contract.pk, b"mine", "b.txt")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_an_archived_contract_refuses_uploads_with_409(
    org: SimpleNamespace,
    api: Any,
    docs: Path,  # noqa: F811
) -> None:
    contract = make_contract(org.sales1, state="archived")
    response = post_file(api(org.admin), contract.pk, b"late", "late.txt")
    assert response.status_code == 409
    assert response.json()["code"] == "archived"


def test_large_uploads_stream_to_the_private_temp_folder_and_are_removed(
    org: SimpleNamespace,
    api: Any,
    docs: Path,  # noqa: F811
    settings: Any,
) -> None:
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # spool to a temporary file
    (docs / "tmp").mkdir(mode=0o700, parents=True, exist_ok=True)
    contract = make_contract(org.sales1, confidentiality="public")
    data = ("第一条 " * 2000).encode()
    response = post_file(api(org.sales1), contract.pk, data, "long.txt")
    assert response.status_code == 201, response.content
    assert list((docs / "tmp").iterdir()) == []
    settings.UPLOAD_MAX_BYTES = 4096
    response = post_file(api(org.sales1), contract.pk, data + b"x", "long2.txt")
    assert response.status_code == 413
    assert list((docs / "tmp").iterdir()) == []
