"""Attaching many plain-text documents at once (bulk import, benchmark data).

The same rules and storage as :func:`qiyue.documents.actions.upload_document`: the actor
needs ``change`` or ``sign`` access to each contract, archived contracts take no
documents, the file and its extracted text are stored encrypted by ``put_blob``, and every
document writes its ``document.uploaded`` audit event in the transaction that creates it.
What differs is that the text is known already (it *is* the file), so no extraction job
runs: the version is stored with its text, and the caller indexes the contracts in bulk
(``after_commit``) instead of one job per document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.audit.actions import record_many
from qiyue.contracts.models import Contract
from qiyue.documents.actions import CLOSED_STATES, DocumentError, NotAllowed, put_text_blob
from qiyue.documents.blobs import put_blob
from qiyue.documents.extract import Method
from qiyue.documents.models import Document, DocumentKind, DocumentVersion, TextStatus
from qiyue.documents.sniff import KINDS, Kind, safe_display_name

TEXT_KIND = KINDS[Kind.TEXT]
#: The longest text accepted per document (characters), as the extractor keeps at most.
MAX_TEXT_CHARS = 5_000_000


@dataclass(frozen=True)
class TextDocument:
    contract_id: int
    name: str
    text: str
    kind: str = DocumentKind.MAIN


def _allowed_ids(actor: Any, ids: set[int], *, closed: bool) -> set[int]:
    """The contracts among ``ids`` the actor may add documents to (two queries)."""
    base = Contract.objects.filter(pk__in=ids)
    if not closed:
        base = base.exclude(state__in=CLOSED_STATES)
    out: set[int] = set()
    for action in ("change", "sign"):
        out |= set(base.visible_to(actor, action).values_list("pk", flat=True))
    return out


def attach_text_documents(
    *,
    actor: Any,
    items: Sequence[TextDocument],
    after_commit: Callable[[list[int]], Any] | None = None,
    imported: bool = False,
) -> list[DocumentVersion]:
    """Store each text as a new document (version 1, text extracted) of its contract, in
    one transaction; refuses them all (:class:`DocumentError`) if any may not be added.
    ``after_commit(contract_ids)`` runs once after the commit (e.g. bulk indexing).
    ``imported``: the contracts are being imported in the caller's transaction, with
    their documents, so an archived one may take them (it arrives archived)."""
    if not items:
        return []
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAllowed(_("You may not add documents to this contract."))
    wanted = {item.contract_id for item in items}
    if _allowed_ids(actor, wanted, closed=imported) != wanted:
        raise NotAllowed(_("You may not add documents to this contract."))
    for item in items:
        if item.kind not in DocumentKind.values:
            raise DocumentError(_("Unknown document kind."), code="invalid")
        if len(item.text) > MAX_TEXT_CHARS:
            raise DocumentError(_("The document text is too long."), code="too_large")
    now = timezone.now()
    versions: list[DocumentVersion] = []
    with transaction.atomic():
        documents = []
        for item in items:
            text = item.text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
            raw = text.encode("utf-8")
            blob = put_blob(raw)
            text_blob = (
                put_text_blob([(1, text, Method.TEXT)], Method.TEXT) if text.strip() else None
            )
            name = safe_display_name(item.name or "document.txt")
            documents.append(
                Document(
                    contract_id=item.contract_id,
                    kind=item.kind,
                    title=name,
                    last_number=1,
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                )
            )
            versions.append(
                DocumentVersion(
                    number=1,
                    blob=blob,
                    display_name=name,
                    extension=TEXT_KIND.extension,
                    mime=TEXT_KIND.mime,
                    size=blob.size,
                    uploaded_by=actor,
                    uploaded_at=now,
                    text_status=TextStatus.OK if text_blob else TextStatus.EMPTY,
                    text_blob=text_blob,
                    text_method=str(Method.TEXT),
                    text_reason_code="" if text_blob else "no_text",
                    text_chars=len(text),
                    page_count=1,
                    extracted_at=now,
                )
            )
        Document.objects.bulk_create(documents)
        for document, version in zip(documents, versions, strict=True):
            version.document = document
        DocumentVersion.objects.bulk_create(versions)
        record_many(
            actor=actor,
            action="document.uploaded",
            model=Contract,
            items=[
                (
                    document.contract_id,
                    {
                        "document": document.pk,
                        "kind": document.kind,
                        "version": 1,
                        "version_id": version.pk,
                        "name": document.title,
                        "size": version.size,
                        "sha256": version.blob.sha256,
                        "text": "imported",
                    },
                )
                for document, version in zip(documents, versions, strict=True)
            ],
        )
        if after_commit is not None:
            ids = sorted(wanted)
            transaction.on_commit(lambda: after_commit(ids), robust=True)
    return versions
