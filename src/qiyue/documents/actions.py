"""Writes for documents: upload a file (a new document or a new version of one) and the
background job that extracts its text.

An upload is checked before anything is stored: who uploads (``change`` or ``sign``
access to the contract), the contract's state, the size (``settings.UPLOAD_MAX_BYTES``)
and the type, decided from the bytes (``sniff``). Then the bytes go encrypted into the
blob store — before the transaction, so that on SQLite the database's write lock is not
held while a large file streams — and one short transaction writes the document, its
version and the audit event. The text is extracted after the commit by a Huey job
(:func:`enqueue_extraction` → ``tasks.extract_version_task`` → :func:`extract_version`).

A refused upload raises :class:`DocumentError` (or :class:`NotAllowed`) and leaves
nothing behind: no row, no blob, no temporary file.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.audit.actions import record
from qiyue.compliance.hooks import recheck_after_commit
from qiyue.contracts.models import Contract, ContractState
from qiyue.documents.blobs import BlobTooLarge, open_blob, put_blob
from qiyue.documents.extract import extract_text
from qiyue.documents.models import Blob, Document, DocumentKind, DocumentVersion, TextStatus
from qiyue.documents.render import page_count
from qiyue.documents.sniff import UnsupportedFileType, safe_display_name, sniff_path
from qiyue.search.hooks import reindex_after_commit

log = logging.getLogger(__name__)

COPY_SIZE = 1024 * 1024
NOTE_MAX = 2000
#: Upload refused for contracts in these states.
CLOSED_STATES = (ContractState.ARCHIVED,)


class DocumentError(ValueError):
    """A refused document operation: ``code`` is stable (``unsupported_type``,
    ``too_large``, ``forbidden``, ``archived``, ``invalid``, ``not_found``,
    ``no_preview``, ``watermark_failed`` …), ``message`` is in the user's language."""

    code = "invalid"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        if code:
            self.code = code
        self.message = message or _("The document operation was refused.")
        super().__init__(self.message)


class NotAllowed(DocumentError):
    code = "forbidden"


# -- helpers ------------------------------------------------------------------------------


def private_tmp_dir() -> Path:
    """``DATA_DIR/tmp`` (mode 0700), where plaintext temporary copies live briefly."""
    path = Path(settings.DATA_DIR) / "tmp"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


@contextmanager
def private_workdir(prefix: str) -> Iterator[Path]:
    """A fresh directory (mode 0700) under ``DATA_DIR/tmp``, removed with its content."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=private_tmp_dir()))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def decrypt_to(version: DocumentVersion, path: Path) -> None:
    """Write the plaintext of the version's blob to ``path`` (mode 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        for chunk in open_blob(version.blob):
            out.write(chunk)


def _too_large() -> DocumentError:
    return DocumentError(
        _("The file is larger than the limit of %(limit)s.")
        % {"limit": filesizeformat(settings.UPLOAD_MAX_BYTES)},
        code="too_large",
    )


def _copy_limited(fileobj: Any, dst: Path, limit: int) -> None:
    """Copy an upload (Django ``UploadedFile`` or any binary file object) to ``dst``,
    refusing as soon as it exceeds ``limit`` bytes."""
    size = 0
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        if hasattr(fileobj, "chunks"):
            chunks: Iterator[bytes] = fileobj.chunks(COPY_SIZE)
        else:
            chunks = iter(lambda: fileobj.read(COPY_SIZE), b"")
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise _too_large()
            out.write(chunk)


def _can_upload(actor: Any, contract: Contract) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    visible = Contract.objects.filter(pk=contract.pk)
    return (
        visible.visible_to(actor, "change").exists() or visible.visible_to(actor, "sign").exists()
    )


def can_upload(actor: Any, contract: Contract) -> bool:
    """Whether ``actor`` may upload documents to ``contract`` (for showing the form)."""
    return contract.state not in CLOSED_STATES and _can_upload(actor, contract)


# -- upload -------------------------------------------------------------------------------


def upload_document(
    *,
    actor: Any,
    contract: Contract,
    fileobj: IO[bytes] | Any,
    name: str,
    kind: str = DocumentKind.MAIN,
    note: str = "",
    document: Document | None = None,
) -> DocumentVersion:
    """Store ``fileobj`` as a new document of ``contract`` (or, with ``document``, as
    its next version) and return the version. Refusals raise :class:`DocumentError`."""
    if contract.state in CLOSED_STATES:
        raise DocumentError(
            _("This contract is archived; its documents can no longer change."), code="archived"
        )
    if not _can_upload(actor, contract):
        raise NotAllowed(_("You may not add documents to this contract."))
    if kind not in DocumentKind.values:
        raise DocumentError(_("Unknown document kind."), code="invalid")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise DocumentError(_("The note is too long."), code="invalid")
    if document is not None and document.contract_id != contract.pk:
        raise DocumentError(_("This document belongs to another contract."), code="not_found")
    display_name = safe_display_name(name or "")
    limit = settings.UPLOAD_MAX_BYTES
    size = getattr(fileobj, "size", None)
    if isinstance(size, int) and size > limit:
        raise _too_large()

    with private_workdir("upload-") as workdir:
        temp_path = getattr(fileobj, "temporary_file_path", None)
        if temp_path is not None:
            path = Path(temp_path())
            if path.stat().st_size > limit:
                raise _too_large()
        else:
            path = workdir / "upload"
            _copy_limited(fileobj, path, limit)
        try:
            file_kind = sniff_path(path)
        except UnsupportedFileType as exc:
            raise DocumentError(exc.user_message, code="unsupported_type") from exc
        # Outside any transaction: on SQLite a transaction would hold the write lock
        # while the bytes are encrypted and written.
        try:
            with path.open("rb") as fh:
                blob = put_blob(fh, max_bytes=limit)
        except BlobTooLarge as exc:
            raise _too_large() from exc

    now = timezone.now()
    with transaction.atomic():
        if document is None:
            document = Document.objects.create(
                contract=contract,
                kind=kind,
                title=display_name,
                last_number=1,
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
            number = 1
        else:
            # Compare-and-set on the counter: on PostgreSQL the UPDATE locks the row until
            # the commit, so concurrent uploads of versions queue here; SQLite
            # (transaction_mode=IMMEDIATE) serializes writers anyway.
            advanced = Document.objects.filter(pk=document.pk, contract=contract).update(
                last_number=F("last_number") + 1, updated_at=now
            )
            if not advanced:
                raise DocumentError(_("The document does not exist."), code="not_found")
            number = Document.objects.values_list("last_number", flat=True).get(pk=document.pk)
            document.last_number, document.updated_at = number, now
        version = DocumentVersion.objects.create(
            document=document,
            number=number,
            blob=blob,
            display_name=display_name,
            extension=file_kind.extension,
            mime=file_kind.mime,
            size=blob.size,
            note=note,
            uploaded_by=actor,
            uploaded_at=now,
        )
        record(
            actor=actor,
            action="document.uploaded",
            target=contract,
            data={
                "document": document.pk,
                "kind": document.kind,
                "version": number,
                "version_id": version.pk,
                "name": display_name,
                "size": blob.size,
                "sha256": blob.sha256,
            },
        )
        version_id = version.pk
        if document.kind == DocumentKind.MAIN:
            # A new main text after approval re-opens it (nothing signed unapproved).
            from qiyue.approvals.actions import ApprovalError, reopen_after_change

            try:
                reopen_after_change(
                    actor=actor,
                    contract=contract,
                    reason=_("New main document: %(name)s") % {"name": display_name},
                )
            except ApprovalError as exc:  # nobody could approve: the upload is refused
                raise DocumentError(" ".join(exc.errors.values()), code="invalid") from None
        transaction.on_commit(lambda: enqueue_extraction(version_id), robust=True)
    return version


# -- text extraction ----------------------------------------------------------------------


def enqueue_extraction(version_id: int, *, force: bool = False) -> None:
    """Queue the text extraction of a version (run at once when jobs are immediate)."""
    from qiyue.documents.tasks import extract_version_task

    if force:
        extract_version_task(version_id, force=True)
    else:
        extract_version_task(version_id)


def put_text_blob(pages: Iterable[tuple[int, str, str]], method: str) -> Blob:
    """Store a version's extracted text, encrypted, in the one format
    ``queries.version_pages`` reads: ``{"pages": [{number, text, method}], "method"}``."""
    payload = {
        "pages": [{"number": n, "text": text, "method": str(m)} for n, text, m in pages],
        "method": str(method),
    }
    return put_blob(json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def extract_version(version_id: int, *, force: bool = False) -> None:
    """Extract the text of a version and keep it encrypted (the job's body).

    Idempotent: a version whose text was extracted already is skipped unless ``force``.
    The plaintext copy of the file lives only in a private temporary directory, removed
    whatever happens; extraction itself never raises for a bad file (``extract_text``)."""
    version = (
        DocumentVersion.objects.select_related("blob", "document__contract")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        log.warning("text extraction: document version %s does not exist", version_id)
        return
    if version.text_status != TextStatus.PENDING and not force:
        return
    kind = version.file_kind
    with private_workdir("extract-") as workdir:
        source = workdir / f"source{kind.extension}"
        decrypt_to(version, source)
        work = workdir / "work"
        work.mkdir(mode=0o700)
        extraction = extract_text(source, kind, workdir=work)
        pages = page_count(source, kind) if kind.can_preview else None
    if pages is None and extraction.pages and kind.can_preview:
        pages = max(p.number for p in extraction.pages)
    text_blob = None
    chars = sum(len(p.text) for p in extraction.pages)
    if extraction.pages:
        text_blob = put_text_blob(
            [(p.number, p.text, p.method) for p in extraction.pages], extraction.method
        )
    status = TextStatus(str(extraction.status))
    with transaction.atomic():
        DocumentVersion.objects.filter(pk=version.pk).update(
            text_status=status,
            text_blob=text_blob,
            text_method=str(extraction.method),
            text_reason_code=extraction.reason_code,
            text_chars=chars,
            page_count=pages,
            extracted_at=timezone.now(),
        )
        record(
            actor=None,
            action="document.text_extracted",
            target=version.document.contract,
            data={
                "document": version.document_id,
                "version": version.number,
                "version_id": version.pk,
                "status": str(status),
                "method": str(extraction.method),
                "reason": extraction.reason_code,
                "chars": chars,
                "pages": pages,
            },
        )
        reindex_after_commit(version.document.contract_id)
        recheck_after_commit(version.document.contract_id)
        from qiyue.review.tasks import propose_after_commit  # review reads documents

        propose_after_commit(version.pk)
    if extraction.detail:
        log.info(
            "text extraction of version %s: %s (%s)",
            version.pk,
            extraction.status,
            extraction.detail[:500],
        )
