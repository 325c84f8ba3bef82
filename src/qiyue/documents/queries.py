"""Reads of documents for users; every one goes through ``Contract.visible_to``.

A document or version of a contract the user may not see (for the action asked) is
"not found" (:class:`~django.http.Http404`), never "forbidden"."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from qiyue.contracts.models import Contract
from qiyue.documents.blobs import read_blob
from qiyue.documents.models import Blob, Document, DocumentKind, DocumentVersion

#: Extracted text is capped by ``extract_text`` (5 M characters, ≤ 4 bytes each + JSON).
TEXT_READ_LIMIT = 64 * 1024 * 1024

_KIND_ORDER = {value: index for index, value in enumerate(DocumentKind.values)}


def _visible_ids(user: Any, action: str) -> QuerySet[Contract, Any]:
    return Contract.objects.visible_to(user, action).values("pk")


def _versions_newest_first() -> QuerySet[DocumentVersion]:
    return DocumentVersion.objects.select_related("blob", "uploaded_by").order_by("-number")


def documents_for(user: Any, contract: Contract) -> list[Document]:
    """The documents of a contract the user may see — main text first, then by kind and
    age — each with ``versions`` prefetched newest first and ``latest`` set to the
    newest one. Three queries whatever the number of documents; 404 when the user may
    not see the contract."""
    if not Contract.objects.visible_to(user, "view").filter(pk=contract.pk).exists():
        raise Http404
    return contract_documents(contract.pk)


def contract_documents(contract_id: int) -> list[Document]:
    """``documents_for`` without the access check, for a caller that has established
    access another way (an approver through their task). Two queries."""
    documents = list(
        Document.objects.filter(contract_id=contract_id)
        .select_related("created_by")
        .prefetch_related(Prefetch("versions", queryset=_versions_newest_first()))
        .order_by("id")
    )
    documents.sort(key=lambda d: (_KIND_ORDER.get(d.kind, len(_KIND_ORDER)), d.pk))
    for document in documents:
        _set_latest(document)
    return documents


def document_for(user: Any, pk: int, action: str = "view") -> Document:
    """One document whose contract the user may ``action``, or 404. ``versions`` are
    prefetched newest first and ``latest`` is set, as in :func:`documents_for`."""
    document = (
        Document.objects.filter(pk=pk, contract__in=_visible_ids(user, action))
        .select_related("contract", "created_by")
        .prefetch_related(Prefetch("versions", queryset=_versions_newest_first()))
        .first()
    )
    if document is None:
        raise Http404
    _set_latest(document)
    return document


def _set_latest(document: Document) -> None:
    """``document.latest``: the newest of its prefetched versions (newest first), or None."""
    versions = list(document.versions.all())
    document.latest = versions[0] if versions else None  # type: ignore[attr-defined]


def version_for(user: Any, pk: int, action: str = "view") -> DocumentVersion:
    """One document version whose contract the user may ``action``, or 404."""
    version = (
        DocumentVersion.objects.filter(pk=pk, document__contract__in=_visible_ids(user, action))
        .select_related("document__contract", "blob", "uploaded_by")
        .first()
    )
    if version is None:
        raise Http404
    return version


def version_pages(version: DocumentVersion) -> list[dict[str, Any]] | None:
    """The extracted text of a version, decrypted: ``[{"number", "text", "method"}, …]``
    page by page; ``None`` when no text was stored (pending, empty, failed)."""
    text_blob = version.text_blob
    if text_blob is None:
        return None
    return text_blob_pages(text_blob)


def text_blob_pages(text_blob: Blob) -> list[dict[str, Any]]:
    """The pages of a version's text blob (``version.text_blob``), decrypted, as
    :func:`version_pages`; for callers that hold the blob without its version."""
    data = json.loads(read_blob(text_blob, limit=TEXT_READ_LIMIT).decode("utf-8"))
    pages = data.get("pages", [])
    return pages if isinstance(pages, list) else []
