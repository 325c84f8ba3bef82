"""Documents (文档) over REST: upload files to contracts, list documents and versions,
download the content (watermarked like the browser UI) and read the extracted text.

Everything of a contract the caller may not see answers 404."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Path, Router
from pydantic import Field

from qiyue.api.auth import current_user
from qiyue.api.errors import ApiError, error_body
from qiyue.api.schemas import COMMON_ERRORS, MAX_ID, Error, Out, UserRef
from qiyue.api.serializers import user_ref
from qiyue.contracts.queries import contract_for
from qiyue.documents import actions, content, queries
from qiyue.documents.actions import DocumentError
from qiyue.documents.models import Document, DocumentKind, DocumentVersion

if TYPE_CHECKING:
    from ninja import NinjaAPI

router = Router(tags=["documents"])

#: DocumentError.code → HTTP status.
DOCUMENT_STATUS = {
    "invalid": 400,
    "unsupported_type": 415,
    "too_large": 413,
    "forbidden": 403,
    "not_found": 404,
    "archived": 409,
    "no_preview": 409,
    "watermark_failed": 409,
}

ContractId = Path(..., ge=1, le=MAX_ID, description="Contract id.")
DocumentId = Path(..., ge=1, le=MAX_ID, description="Document id.")
VersionId = Path(..., ge=1, le=MAX_ID, description="Document version id.")
ERRORS = COMMON_ERRORS
UPLOAD_ERRORS = {**COMMON_ERRORS, 409: Error, 413: Error, 415: Error}


# -- shapes -------------------------------------------------------------------------------


class TextOut(Out):
    status: str = Field(description="pending, ok, empty, failed or ocr_unavailable.")
    method: str = Field(description="pdfium, docx, text, ocr or empty.")
    reason_code: str = Field(description="Why there is no (or only partial) text.")
    reason: str = Field(description="The reason for people, in the user's language.")
    chars: int
    extracted_at: datetime | None


class VersionOut(Out):
    id: int
    document: int
    number: int
    name: str = Field(description="The uploaded file's name, made harmless (display only).")
    extension: str = Field(description="Of the type found in the bytes, e.g. .pdf.")
    mime: str
    size: int
    sha256: str
    page_count: int | None
    note: str
    uploaded_by: UserRef
    uploaded_at: datetime
    text: TextOut
    content: str = Field(description="Path of the download.")


class VersionList(Out):
    items: list[VersionOut]


class DocumentOut(Out):
    id: int
    contract: int
    kind: str = Field(description="main, attachment, signed_scan, amendment or other.")
    title: str
    versions: int = Field(description="Number of versions.")
    created_by: UserRef
    created_at: datetime
    updated_at: datetime
    latest: VersionOut | None


class DocumentList(Out):
    items: list[DocumentOut]


class PageOut(Out):
    number: int
    text: str
    method: str


class TextDetailOut(TextOut):
    pages: list[PageOut] | None = Field(description="Null until the text is extracted.")


def version_data(version: DocumentVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "document": version.document_id,
        "number": version.number,
        "name": version.display_name,
        "extension": version.extension,
        "mime": version.mime,
        "size": version.size,
        "sha256": version.sha256,
        "page_count": version.page_count,
        "note": version.note,
        "uploaded_by": user_ref(version.uploaded_by),
        "uploaded_at": version.uploaded_at,
        "text": text_data(version),
        "content": reverse("api:document_version_content", kwargs={"id": version.pk}),
    }


def text_data(version: DocumentVersion) -> dict[str, Any]:
    return {
        "status": version.text_status,
        "method": version.text_method,
        "reason_code": version.text_reason_code,
        "reason": version.text_reason,
        "chars": version.text_chars,
        "extracted_at": version.extracted_at,
    }


def document_data(document: Document) -> dict[str, Any]:
    latest = getattr(document, "latest", None)
    return {
        "id": document.pk,
        "contract": document.contract_id,
        "kind": document.kind,
        "title": document.title,
        "versions": document.last_number,
        "created_by": user_ref(document.created_by),
        "created_at": document.created_at,
        "updated_at": document.updated_at,
        "latest": version_data(latest) if latest is not None else None,
    }


# -- endpoints ----------------------------------------------------------------------------

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "kind": {"type": "string", "enum": list(DocumentKind.values)},
                        "note": {"type": "string", "maxLength": actions.NOTE_MAX},
                        "document": {
                            "type": "integer",
                            "description": "Id of a document of this contract: the file "
                            "becomes its next version.",
                        },
                    },
                }
            }
        },
    }
}


def _form_id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_ID:
        raise ApiError(
            400, "invalid", _("Enter a whole number."), {"document": _("Enter a whole number.")}
        )
    return number


@router.post(
    "/contracts/{id}/documents",
    response={201: VersionOut, **UPLOAD_ERRORS},
    summary="Upload a document or a new version",
    openapi_extra=UPLOAD_BODY,
)
def upload_document(
    request: HttpRequest, response: HttpResponse, id: int = ContractId
) -> tuple[int, dict[str, Any]]:
    """Multipart, the file in field `file` (its type is decided from its bytes; the
    name is kept for display only). Without `document` a new document is made; with it,
    a new version. Text extraction runs afterwards in the background (`text.status`)."""
    user = current_user(request)
    contract = contract_for(user, id)
    if content.upload_too_large(request):
        raise DocumentError(actions._too_large().message, code="too_large")
    upload = request.FILES.get("file")
    if upload is None:
        raise ApiError(
            400, "invalid", _("Choose a file to upload."), {"file": _("This field is required.")}
        )
    document = None
    if request.POST.get("document"):
        document = queries.document_for(user, _form_id(request.POST["document"]))
        if document.contract_id != contract.pk:
            raise ApiError(404, "not_found", _("Not found."))
    version = actions.upload_document(
        actor=user,
        contract=contract,
        fileobj=upload,
        name=upload.name or "",
        kind=request.POST.get("kind") or (document.kind if document else DocumentKind.MAIN),
        note=request.POST.get("note", ""),
        document=document,
    )
    version = queries.version_for(user, version.pk)
    response["Location"] = reverse("api:document_version_content", kwargs={"id": version.pk})
    return 201, version_data(version)


@router.get(
    "/contracts/{id}/documents",
    response={200: DocumentList, **ERRORS},
    summary="List a contract's documents",
)
def list_documents(request: HttpRequest, id: int = ContractId) -> dict[str, Any]:
    """Main text first, then attachments, signed scans, amendments and others; each with
    its latest version."""
    user = current_user(request)
    contract = contract_for(user, id)
    return {"items": [document_data(d) for d in queries.documents_for(user, contract)]}


@router.get(
    "/documents/{id}/versions",
    response={200: VersionList, **ERRORS},
    summary="List a document's versions",
)
def list_versions(request: HttpRequest, id: int = DocumentId) -> dict[str, Any]:
    """Newest first."""
    document = queries.document_for(current_user(request), id)
    return {"items": [version_data(v) for v in document.versions.all()]}


@router.get(
    "/document-versions/{id}/content",
    response={200: None, **ERRORS, 409: Error},
    summary="Download a version",
    url_name="document_version_content",
)
def download_version(request: HttpRequest, id: int = VersionId) -> HttpResponseBase:
    """The file as an attachment. PDFs of contracts whose confidentiality level is
    watermarked carry the caller's name and the time on every page. Audited."""
    user = current_user(request)
    version = queries.version_for(user, id)
    return content.download_response(user, version)


@router.get(
    "/document-versions/{id}/text",
    response={200: TextDetailOut, **ERRORS},
    summary="Read a version's extracted text",
)
def version_text(request: HttpRequest, id: int = VersionId) -> dict[str, Any]:
    """Page by page; `pages` is null while the extraction is pending or when there is
    no text (see `reason`)."""
    version = queries.version_for(current_user(request), id)
    return {**text_data(version), "pages": queries.version_pages(version)}


def install_errors(api: NinjaAPI) -> None:
    """Answer refused document operations in the API's JSON error shape."""

    @api.exception_handler(DocumentError)
    def _document_error(request: HttpRequest, exc: DocumentError) -> HttpResponse:
        status = DOCUMENT_STATUS.get(exc.code, 400)
        message = _("Not found.") if status == 404 else exc.message
        code = "not_found" if status == 404 else exc.code
        return api.create_response(request, error_body(code, message), status=status)
