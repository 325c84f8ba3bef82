"""Document pages in the browser UI: upload, the documents of a contract, versions,
page previews, extracted text, downloads and the comparison of two versions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from qiyue.documents.actions import upload_document
from qiyue.documents.models import Document, DocumentVersion, TextStatus
from tests.documents.doc_files import pdf_bytes, png_bytes, text_image

XHR: dict[str, Any] = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest", "HTTP_ACCEPT": "application/json"}
# Queries of the contract page, whatever the number of documents (pinned: a change
# here is a change of the page's cost, on purpose or not).
DETAIL_QUERIES = 33  # +1: proposals panel (review); +2: approvals (task count, timeline)


def upload_url(contract: Any) -> str:
    return reverse("web:document_upload", args=[contract.pk])


def detail(contract: Any) -> str:
    return reverse("web:contract_detail", args=[contract.pk])


def a_file(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def upload(
    client: Client, contract: Any, name: str, data: bytes, capture: Any, **fields: Any
) -> Any:
    """Post one file the way upload.js does, running the extraction job after commit."""
    with capture(execute=True):
        return client.post(
            upload_url(contract), {"file": a_file(name, data), "kind": "main", **fields}, **XHR
        )


def stored(contract: Any, name: str, data: bytes, capture: Any) -> DocumentVersion:
    """A version made through the action (not the view), text extracted."""
    with capture(execute=True):
        version = upload_document(
            actor=contract.owner, contract=contract, fileobj=a_file(name, data), name=name
        )
    version.refresh_from_db()
    return version


def new_version(version: DocumentVersion, name: str, data: bytes, capture: Any) -> Any:
    contract = version.document.contract
    with capture(execute=True):
        later = upload_document(
            actor=contract.owner,
            contract=contract,
            fileobj=a_file(name, data),
            name=name,
            document=version.document,
        )
    later.refresh_from_db()
    return later


# --- upload and the documents section ------------------------------------------------


def test_owner_uploads_pdf_and_sees_it_on_the_contract_page(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = login(contract.owner)
    page = c.get(detail(contract))
    assert b'data-testid="documents"' in page.content
    assert b'data-testid="upload-input"' in page.content

    response = upload(
        c,
        contract,
        "主合同.pdf",
        pdf_bytes(["Master agreement"]),
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["ok"] is True
    version = DocumentVersion.objects.get(pk=body["version"])
    assert body["url"] == reverse("web:version_detail", args=[version.pk])
    assert version.text_status == TextStatus.OK

    html = c.get(detail(contract)).content.decode()
    assert 'data-testid="document-row"' in html
    assert "主合同.pdf" in html
    assert reverse("web:version_download", args=[version.pk]) in html
    partial = c.get(reverse("web:contract_documents", args=[contract.pk])).content.decode()
    assert "主合同.pdf" in partial and "<html" not in partial


def test_plain_form_post_without_script_redirects_with_a_message(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = login(contract.owner)
    files = [a_file("a.pdf", pdf_bytes(["one"])), a_file("b.txt", b"two")]
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(upload_url(contract), {"file": files, "kind": "attachment"}, follow=True)
    assert response.redirect_chain[-1][0].endswith(detail(contract) + "#documents")
    assert Document.objects.filter(contract=contract, kind="attachment").count() == 2
    assert "a.pdf" in response.content.decode()


def test_new_version_is_uploaded_from_the_document_page(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first = stored(contract, "terms.txt", b"one", django_capture_on_commit_callbacks)
    c = login(contract.owner)
    page = c.get(reverse("web:document_detail", args=[first.document_id]))
    assert page.status_code == 200
    assert f'name="document" value="{first.document_id}"'.encode() in page.content
    response = upload(
        c,
        contract,
        "terms-v2.txt",
        b"two",
        django_capture_on_commit_callbacks,
        document=first.document_id,
        note="客户修改",
    )
    assert response.status_code == 201
    later = DocumentVersion.objects.get(pk=response.json()["version"])
    assert later.document_id == first.document_id and later.number == 2
    html = c.get(reverse("web:document_detail", args=[first.document_id])).content.decode()
    assert html.count('data-testid="version-row"') == 2
    assert "客户修改" in html
    assert first.sha256[:12] in html


def test_html_renamed_pdf_is_refused_with_a_message(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    c = login(contract.owner)
    html = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
    response = upload(c, contract, "合同.pdf", html, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False and body["message"]
    assert not Document.objects.filter(contract=contract).exists()


def test_upload_above_the_limit_is_refused(
    login: Any, contract: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.UPLOAD_MAX_BYTES = 1000
    c = login(contract.owner)
    response = upload(c, contract, "big.txt", b"x" * 5000, django_capture_on_commit_callbacks)
    assert response.status_code == 413
    assert response.json()["ok"] is False
    assert not Document.objects.filter(contract=contract).exists()

    with django_capture_on_commit_callbacks(execute=True):
        plain = c.post(upload_url(contract), {"file": a_file("big.txt", b"x" * 5000)}, follow=True)
    assert plain.status_code == 200
    assert b'data-testid="messages"' in plain.content


def test_upload_without_a_file_is_refused(login: Any, contract: Any) -> None:
    response = login(contract.owner).post(upload_url(contract), {"kind": "main"}, **XHR)
    assert response.status_code == 400
    assert response.json()["ok"] is False


# --- access ----------------------------------------------------------------------------


def test_outsider_gets_404_for_every_document_page(
    login: Any, org: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    version = stored(contract, "a.pdf", pdf_bytes(["secret"]), django_capture_on_commit_callbacks)
    c = login(org.sales2)
    doc_id = version.document_id
    urls = [
        reverse("web:contract_documents", args=[contract.pk]),
        reverse("web:document_detail", args=[doc_id]),
        reverse("web:version_detail", args=[version.pk]),
        reverse("web:version_page", args=[version.pk, 1]),
        reverse("web:version_download", args=[version.pk]),
        reverse("web:document_compare", args=[doc_id]) + f"?a={version.pk}&b={version.pk}",
    ]
    for url in urls:
        assert c.get(url).status_code == 404, url
    response = c.post(upload_url(contract), {"file": a_file("x.txt", b"x")}, **XHR)
    assert response.status_code == 404
    assert DocumentVersion.objects.count() == 1


def test_viewer_sees_documents_but_may_not_upload(
    login: Any, org: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    version = stored(contract, "a.pdf", pdf_bytes(["hello"]), django_capture_on_commit_callbacks)
    c = login(org.viewer)
    page = c.get(detail(contract))
    assert page.status_code == 200
    assert b'data-testid="document-row"' in page.content
    assert b'data-testid="upload-input"' not in page.content
    assert c.get(reverse("web:document_detail", args=[version.document_id])).status_code == 200
    assert c.get(reverse("web:version_detail", args=[version.pk])).status_code == 200

    response = c.post(upload_url(contract), {"file": a_file("x.txt", b"x")}, **XHR)
    assert response.status_code in (403, 404)
    assert DocumentVersion.objects.count() == 1


def test_version_of_another_contract_is_not_a_version_of_this_document(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    one = stored(contract, "a.txt", b"a", django_capture_on_commit_callbacks)
    two = stored(contract, "b.txt", b"b", django_capture_on_commit_callbacks)
    url = reverse("web:document_compare", args=[one.document_id]) + f"?a={one.pk}&b={two.pk}"
    assert login(contract.owner).get(url).status_code == 404


# --- preview, text, download -----------------------------------------------------------


def test_version_page_shows_page_images_and_text(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    version = stored(
        contract,
        "two.pdf",
        pdf_bytes(["First page", "Second page"]),
        django_capture_on_commit_callbacks,
    )
    c = login(contract.owner)
    html = c.get(reverse("web:version_detail", args=[version.pk])).content.decode()
    assert html.count('data-testid="page-image"') == 2
    assert reverse("web:version_page", args=[version.pk, 2]) in html
    assert 'loading="lazy"' in html
    assert "Second page" in html
    assert 'data-status="ok"' in html
    assert "every 3s" not in html  # nothing to wait for


def test_page_image_is_a_png(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    version = stored(contract, "p.pdf", pdf_bytes(["Picture"]), django_capture_on_commit_callbacks)
    c = login(contract.owner)
    response = c.get(reverse("web:version_page", args=[version.pk, 1]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=300"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert c.get(reverse("web:version_page", args=[version.pk, 9])).status_code == 404


def test_text_file_has_no_page_image_but_its_text(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    version = stored(
        contract, "n.txt", "付款条件：30天".encode(), django_capture_on_commit_callbacks
    )
    c = login(contract.owner)
    html = c.get(reverse("web:version_detail", args=[version.pk])).content.decode()
    assert 'data-testid="page-image"' not in html
    assert "付款条件：30天" in html
    assert c.get(reverse("web:version_page", args=[version.pk, 1])).status_code == 404


def test_pending_text_polls_and_says_it_is_extracting(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    version = stored(contract, "p.pdf", pdf_bytes(["Later"]), django_capture_on_commit_callbacks)
    DocumentVersion.objects.filter(pk=version.pk).update(text_status=TextStatus.PENDING)
    c = login(contract.owner)
    url = reverse("web:version_detail", args=[version.pk])
    html = c.get(url).content.decode()
    assert 'data-status="pending"' in html
    assert 'hx-trigger="every 3s"' in html
    part = c.get(url + "?part=text", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="version-pages"' in part and "<html" not in part


def test_text_not_extracted_says_why(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    version = stored(contract, "p.pdf", pdf_bytes(["x"]), django_capture_on_commit_callbacks)
    DocumentVersion.objects.filter(pk=version.pk).update(
        text_status=TextStatus.OCR_UNAVAILABLE, text_reason_code="ocr_unavailable", text_blob=None
    )
    html = login(contract.owner).get(reverse("web:version_detail", args=[version.pk])).content
    text = html.decode()
    assert 'data-testid="text-reason"' in text
    assert "OCR" in text


def test_download_is_an_attachment(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    version = stored(
        contract, "img.png", png_bytes(text_image(["合同"])), django_capture_on_commit_callbacks
    )
    response = login(contract.owner).get(reverse("web:version_download", args=[version.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


# --- compare ---------------------------------------------------------------------------


def test_compare_shows_inserted_and_deleted_segments_escaped(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # A PDF page per line (the text of a plain-text file with markup is refused upload).
    same = ["Unchanged clause"] * 8
    old = pdf_bytes(
        ["Party A: Shanghai", "Payment in 30 days.", "<script>alert(1)</script>", *same]
    )
    new = pdf_bytes(
        ["Party A: Shanghai", "Payment in 60 days.", "<script>alert(2)</script>", *same]
    )
    first = stored(contract, "v1.pdf", old, django_capture_on_commit_callbacks)
    second = new_version(first, "v2.pdf", new, django_capture_on_commit_callbacks)
    c = login(contract.owner)
    url = reverse("web:document_compare", args=[first.document_id])
    html = c.get(url + f"?a={first.pk}&b={second.pk}").content.decode()
    assert 'data-testid="compare-table"' in html
    assert "<del>3</del>" in html and "<ins>6</ins>" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html
    assert 'class="rl-skip"' in html  # the long unchanged tail is folded
    assert 'data-testid="compare-summary"' in html
    # No parameters: the two newest versions; reversed parameters: still old → new.
    assert c.get(url).status_code == 200
    swapped = c.get(url + f"?a={second.pk}&b={first.pk}").content.decode()
    assert "<del>3</del>" in swapped


def test_compare_says_when_a_version_has_no_text(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first = stored(contract, "v1.txt", b"some text", django_capture_on_commit_callbacks)
    second = new_version(first, "v2.txt", b"other text", django_capture_on_commit_callbacks)
    DocumentVersion.objects.filter(pk=second.pk).update(
        text_status=TextStatus.FAILED, text_reason_code="damaged", text_blob=None
    )
    url = reverse("web:document_compare", args=[first.document_id])
    html = login(contract.owner).get(url + f"?a={first.pk}&b={second.pk}").content.decode()
    assert 'data-testid="compare-missing"' in html
    assert 'data-testid="compare-table"' not in html


# --- cost --------------------------------------------------------------------------------


@pytest.mark.parametrize("documents", [1, 5])
def test_contract_page_query_count_does_not_grow_with_documents(
    documents: int,
    login: Any,
    contract: Any,
    django_assert_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    for n in range(documents):
        stored(contract, f"d{n}.txt", f"text {n}".encode(), django_capture_on_commit_callbacks)
    c = login(contract.owner)
    c.get(detail(contract))  # warm caches (content types, permissions)
    with django_assert_num_queries(DETAIL_QUERIES):
        response = c.get(detail(contract))
    assert response.content.decode().count('data-testid="document-row"') == documents


def test_upload_response_is_json_for_scripts(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    response = upload(
        login(contract.owner), contract, "t.txt", b"hi", django_capture_on_commit_callbacks
    )
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["ok"] is True


def test_contract_history_names_document_uploads_and_extraction(
    login: Any, contract: Any, django_capture_on_commit_callbacks: Any
) -> None:
    stored(contract, "报价单.txt", "总价 100 万元".encode(), django_capture_on_commit_callbacks)
    client = login(contract.owner)
    client.cookies["django_language"] = "en"
    html = client.get(detail(contract)).content.decode()
    assert "Uploaded" in html and "报价单.txt" in html
    assert "Text extracted" in html
    assert "document.uploaded" not in html
