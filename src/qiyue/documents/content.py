"""Delivering document bytes to people — downloads and page previews — shared by the
browser UI and the API.

The caller has checked access already (``queries.version_for(user, pk)``). Everything
delivered is audited (``document.downloaded``, ``document.previewed``) and, for contracts
whose confidentiality is in ``settings.WATERMARK_LEVELS``, watermarked (水印) with the
file's name, the user's name and the local time: PDFs on every page, previews on the
picture. Downloads are always attachments (unless ``inline``) with the MIME type sniffed
at upload and ``X-Content-Type-Options: nosniff``; the name offered is the uploader's,
made harmless, with the real type's extension.

Plaintext copies needed for watermarking and rendering live in a private temporary
directory under ``DATA_DIR/tmp`` that is removed before the response leaves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from qiyue.audit.actions import record_read
from qiyue.documents.actions import DocumentError, decrypt_to, private_workdir
from qiyue.documents.blobs import open_blob
from qiyue.documents.models import DocumentVersion
from qiyue.documents.render import RenderError, render_page_png, watermark_image_png, watermark_pdf
from qiyue.documents.sniff import Kind
from qiyue.documents.uploads import upload_too_large

__all__ = [
    "download_name",
    "download_response",
    "needs_watermark",
    "preview_page_png",
    "upload_too_large",
    "watermark_text",
]

_ALIASES = {".jpg": (".jpg", ".jpeg"), ".tif": (".tif", ".tiff"), ".txt": (".txt", ".text")}


def needs_watermark(version: DocumentVersion) -> bool:
    """Whether deliveries of this version carry a watermark (by the contract's level)."""
    return version.document.contract.confidentiality in settings.WATERMARK_LEVELS


def watermark_text(user: Any, version: DocumentVersion) -> str:
    """``<display name> <username> <local time>``, as stamped on PDFs and previews."""
    when = timezone.localtime(timezone.now()).strftime("%Y-%m-%d %H:%M")
    return f"{version.display_name} {user.get_username()} {when}"


def download_name(version: DocumentVersion) -> str:
    """The file name offered for saving: the display name with the real extension."""
    name = version.display_name
    endings = _ALIASES.get(version.extension, (version.extension,))
    if not name.lower().endswith(endings):
        name = f"{name}{version.extension}"
    return name


def _headers(response: HttpResponseBase, version: DocumentVersion, *, inline: bool) -> None:
    disposition = content_disposition_header(not inline, download_name(version))
    response["Content-Disposition"] = disposition or ("inline" if inline else "attachment")
    response["X-Content-Type-Options"] = "nosniff"
    if version.extension != ".pdf":  # browsers' PDF viewers refuse sandboxed documents
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"


def download_response(
    user: Any, version: DocumentVersion, *, inline: bool = False
) -> HttpResponseBase:
    """The version's bytes for ``user``: streamed as they are decrypted, or — for a PDF
    of a watermarked confidentiality level — stamped first. Audited."""
    contract = version.document.contract
    response: HttpResponseBase
    if version.extension == ".pdf" and needs_watermark(version):
        with private_workdir("download-") as workdir:
            source, stamped = workdir / "source.pdf", workdir / "stamped.pdf"
            decrypt_to(version, source)
            try:
                watermark_pdf(source, stamped, text=watermark_text(user, version))
            except RenderError as exc:
                raise DocumentError(
                    _("This PDF cannot be watermarked, so it cannot be downloaded: %(reason)s")
                    % {"reason": exc.user_message},
                    code="watermark_failed",
                ) from exc
            data = stamped.read_bytes()
        response = HttpResponse(data, content_type=version.mime)
        response["Content-Length"] = str(len(data))
    else:
        response = StreamingHttpResponse(open_blob(version.blob), content_type=version.mime)
        response["Content-Length"] = str(version.size)
    _headers(response, version, inline=inline)
    record_read(
        actor=user,
        action="document.downloaded",
        target=contract,
        data={
            "document": version.document_id,
            "version": version.number,
            "version_id": version.pk,
            "name": version.display_name,
            "watermarked": version.extension == ".pdf" and needs_watermark(version),
        },
    )
    return response


def preview_page_png(
    user: Any, version: DocumentVersion, page: int, *, width_px: int = 1200
) -> bytes:
    """PNG of page ``page`` (1-based) of a PDF or image version, watermarked like
    downloads. :class:`DocumentError` (``no_preview``) for other kinds or pages that
    cannot be rendered, 404 for pages that do not exist. Page 1 is audited as
    ``document.previewed`` (one event per look at a document, not per page)."""
    kind = version.file_kind
    if not kind.can_preview:
        raise DocumentError(_("This file type cannot be previewed."), code="no_preview")
    if page < 1 or (version.page_count is not None and page > version.page_count):
        raise Http404
    with private_workdir("preview-") as workdir:
        source = workdir / f"source{kind.extension}"
        decrypt_to(version, source)
        try:
            png = render_page_png(source, kind, page=page, width_px=width_px)
        except RenderError as exc:
            if exc.code == "page_out_of_range":
                raise Http404 from exc
            raise DocumentError(exc.user_message, code="no_preview") from exc
    if needs_watermark(version):
        png = watermark_image_png(png, watermark_text(user, version))
    if page == 1:
        record_read(
            actor=user,
            action="document.previewed",
            target=version.document.contract,
            data={
                "document": version.document_id,
                "version": version.number,
                "version_id": version.pk,
                "name": version.display_name,
                "kind": "pdf" if kind.kind is Kind.PDF else "image",
            },
        )
    return png
