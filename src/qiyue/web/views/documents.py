"""Document pages: the contract's documents, upload, versions, page previews, extracted
text, downloads and the side-by-side comparison (redline) of two versions.

Thin: every read goes through :mod:`qiyue.documents.queries` (404 for what the user may
not see), every write through :mod:`qiyue.documents.actions`, every byte served through
:mod:`qiyue.documents.content` (audited, watermarked)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qiyue.contracts.models import Contract
from qiyue.contracts.queries import contract_for
from qiyue.documents import content, queries
from qiyue.documents.actions import DocumentError, NotAllowed, can_upload, upload_document
from qiyue.documents.extract import REASONS
from qiyue.documents.models import Document, DocumentKind, DocumentVersion, TextStatus
from qiyue.lib.redline import collapse, redline, summarize
from qiyue.search.queries import mark_matches, query_matcher
from qiyue.web.views.common import as_id

PAGE_WIDTH_PX = 1200


def documents_context(user: Any, contract: Contract) -> dict[str, Any]:
    """What ``_documents.html`` needs: the documents with their latest versions."""
    documents = queries.documents_for(user, contract)
    return {
        "c": contract,
        "documents": documents,
        "documents_pending": any(
            getattr(d, "latest", None) is not None and d.latest.text_status == TextStatus.PENDING  # type: ignore[attr-defined]
            for d in documents
        ),
        "can_upload": can_upload(user, contract),
        "kinds": DocumentKind.choices,
    }


def text_reason(version: DocumentVersion) -> str:
    """Why the version's text was not (fully) extracted, in the active language."""
    if version.text_reason_code:
        return version.text_reason
    fallback = {TextStatus.OCR_UNAVAILABLE: "ocr_unavailable", TextStatus.EMPTY: "no_text"}
    code = fallback.get(version.text_status)  # type: ignore[call-overload]
    return _(REASONS[code]) if code else ""


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get(
        "X-Requested-With"
    ) == "XMLHttpRequest" or "application/json" in request.headers.get("Accept", "")


@login_required
@require_GET
def contract_documents(request: HttpRequest, pk: int) -> HttpResponse:
    """The documents section of the contract page alone (htmx reloads it after uploads)."""
    user: Any = request.user
    contract = contract_for(user, pk)
    return render(request, "web/_documents_table.html", documents_context(user, contract))


@login_required
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """One file per request (the browser sends several in parallel). XHR gets JSON
    ``{ok, message, ...}``; a plain form post (no JavaScript) a redirect with a message."""
    user: Any = request.user
    contract = contract_for(user, pk)
    as_json = _wants_json(request)
    document: Document | None = None
    document_id = as_id(request.POST.get("document"))
    if request.POST.get("document") and document_id is None:
        raise Http404
    if document_id is not None:
        document = queries.document_for(user, document_id)
        if document.contract_id != contract.pk:
            raise Http404
    back = (
        reverse("web:document_detail", args=[document.pk])
        if document is not None
        else reverse("web:contract_detail", args=[contract.pk]) + "#documents"
    )

    def refuse(message: str, status: int) -> HttpResponse:
        if as_json:
            return JsonResponse({"ok": False, "message": message}, status=status)
        messages.error(request, message)
        return redirect(back)

    if content.upload_too_large(request):
        return refuse(_("The file is larger than the upload limit."), 413)
    files = request.FILES.getlist("file")
    if not files:
        return refuse(_("Choose a file to upload."), 400)
    kind = request.POST.get("kind") or DocumentKind.MAIN
    note = request.POST.get("note", "")
    # The browser's script sends one file per request; a form without script may send
    # several, each stored on its own (a new version takes only the first).
    done: list[DocumentVersion] = []
    for fileobj in files[:1] if document is not None or as_json else files:
        try:
            version = upload_document(
                actor=user,
                contract=contract,
                fileobj=fileobj,
                name=fileobj.name or "",
                kind=kind,
                note=note,
                document=document,
            )
        except NotAllowed as exc:
            return refuse(exc.message, 403)
        except DocumentError as exc:
            if as_json:
                status = 413 if exc.code == "too_large" else 400
                return refuse(exc.message, status)
            messages.error(request, f"{fileobj.name}: {exc.message}")
        else:
            done.append(version)
    for version in done:
        message = _("Uploaded %(name)s as version %(number)s.") % {
            "name": version.display_name,
            "number": version.number,
        }
        if as_json:
            return JsonResponse(
                {
                    "ok": True,
                    "message": message,
                    "document": version.document_id,
                    "version": version.pk,
                    "url": reverse("web:version_detail", args=[version.pk]),
                },
                status=201,
            )
        messages.success(request, message)
    return redirect(back)


@login_required
@require_GET
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    document = queries.document_for(user, pk)
    versions = _versions(document)
    contract = document.contract
    context = {
        "d": document,
        "c": contract,
        "versions": versions,
        "can_upload": can_upload(user, contract),
        "kinds": DocumentKind.choices,
        "compare_a": versions[1].pk if len(versions) > 1 else None,
        "compare_b": versions[0].pk if versions else None,
    }
    return render(request, "web/document_detail.html", context)


def _versions(document: Document) -> list[DocumentVersion]:
    """The document's versions, newest first (as the queries prefetch them)."""
    versions = list(document.versions.all())
    versions.sort(key=lambda v: v.number, reverse=True)
    return versions


def _version_context(user: Any, version: DocumentVersion) -> dict[str, Any]:
    pages = queries.version_pages(version) if version.text_status != TextStatus.PENDING else None
    text_by_page = {p["number"]: p["text"] for p in pages or []}
    can_preview = version.can_preview
    # The page count is known from the upload; before that, from the text, or one page.
    page_count = version.page_count or len(text_by_page) or 1
    numbers = list(range(1, page_count + 1)) if can_preview else sorted(text_by_page)
    return {
        "v": version,
        "d": version.document,
        "c": version.document.contract,
        "pending": version.text_status == TextStatus.PENDING,
        "reason": text_reason(version),
        "can_preview": can_preview,
        "has_text": bool(text_by_page),
        "pages": [
            {
                "number": n,
                "text": text_by_page.get(n),
                "image": can_preview,
            }
            for n in numbers
        ],
    }


def mark_query(context: dict[str, Any], q: str) -> None:
    """With ``?q=`` (a search hit's link): the query's terms marked in the shown text, the
    text escaped first, the first match with ``id="first-match"``. Page images cannot be
    marked; a query the search refuses marks nothing."""
    pattern = query_matcher(q) if q.strip() else None
    if pattern is None:
        return
    count = 0
    for page in context["pages"]:
        if page["text"]:
            page["marked"], n = mark_matches(
                page["text"], pattern, first_id="" if count else "first-match"
            )
            count += n
    context["q"] = q
    context["match_count"] = count


@login_required
@require_GET
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    version = queries.version_for(user, pk)
    context = _version_context(user, version)
    mark_query(context, request.GET.get("q", ""))
    if request.headers.get("HX-Request") and request.GET.get("part") == "text":
        return render(request, "web/_document_pages.html", context)
    return render(request, "web/document_version.html", context)


@login_required
@require_GET
def version_page(request: HttpRequest, pk: int, page: int) -> HttpResponse:
    user: Any = request.user
    version = queries.version_for(user, pk)
    try:
        png = content.preview_page_png(user, version, page, width_px=PAGE_WIDTH_PX)
    except DocumentError as exc:
        # No preview for this kind of file: nothing to show, not an error page.
        raise Http404(exc.code) from exc
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def version_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    user: Any = request.user
    version = queries.version_for(user, pk)
    try:
        return content.download_response(user, version)
    except DocumentError as exc:
        messages.error(request, exc.message)
        return redirect("web:version_detail", pk=version.pk)


def _text_of(version: DocumentVersion) -> str | None:
    pages = queries.version_pages(version)
    if not pages:
        return None
    text = "\n".join(p["text"] for p in pages)
    return text if text.strip() else None


@login_required
@require_GET
def document_compare(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    document = queries.document_for(user, pk)
    versions = _versions(document)
    by_id = {v.pk: v for v in versions}
    a_id, b_id = as_id(request.GET.get("a")), as_id(request.GET.get("b"))
    if a_id is None and b_id is None and len(versions) >= 2:
        a_id, b_id = versions[1].pk, versions[0].pk
    if a_id not in by_id or b_id not in by_id:
        # A version of another document (or none at all) is not part of this page.
        raise Http404
    old, new = by_id[a_id], by_id[b_id]
    if old.number > new.number:
        old, new = new, old
    old_text, new_text = _text_of(old), _text_of(new)
    missing = [v for v, t in ((old, old_text), (new, new_text)) if t is None]
    context: dict[str, Any] = {
        "d": document,
        "c": document.contract,
        "versions": versions,
        "old": old,
        "new": new,
        "missing": [{"v": v, "reason": text_reason(v)} for v in missing],
    }
    if not missing:
        lines = redline(old_text or "", new_text or "")
        context["summary"] = summarize(lines)
        context["lines"] = collapse(lines, context=3)
    return render(request, "web/document_compare.html", context)
