"""Audit pages: the events of one contract (for whoever may view it) and the whole log
with filters and CSV export (administrators only; anyone else gets 404)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.audit.actions import record_read
from qiyue.audit.models import AuditEvent
from qiyue.audit.queries import AuditFilterError, audit_log, events_of, parse_filters
from qiyue.contracts.queries import contract_for, contract_types
from qiyue.lib.csvsafe import csv_lines
from qiyue.web.history import describe, details
from qiyue.web.views.common import PAGE_SIZES, paginate


def _require_admin(user: Any) -> None:
    if not user.has_perm_code("admin"):
        raise Http404


@login_required
def contract_audit(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    contract = contract_for(user, pk)
    page = paginate(request, events_of("contract", contract.pk))
    names = {
        "contract_type": {str(t.pk): t.display_name for t in contract_types()},
        "counterparty": {str(contract.counterparty_id): contract.counterparty.name},
        "owner": {str(contract.owner_id): str(contract.owner)},
        "parent": {str(contract.parent_id): contract.parent.number} if contract.parent else {},
    }
    entries = describe(page.object_list, names=names)
    return render(
        request,
        "web/contract_audit.html",
        {
            "c": contract,
            "page": page,
            "rows": list(zip(page.object_list, entries, strict=True)),
            "page_sizes": PAGE_SIZES,
        },
    )


@login_required
def audit_log_page(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    _require_admin(user)
    filter_errors: dict[str, str] = {}
    try:
        filters = parse_filters(request.GET)
    except AuditFilterError as exc:
        filter_errors = exc.errors
        rows: Any = AuditEvent.objects.none()
        query: dict[str, str] = {}
    else:
        rows = audit_log(filters)
        query = filters.as_query()
    page = paginate(request, rows)
    return render(
        request,
        "web/audit_log.html",
        {
            "page": page,
            "rows": [(e, details(e)) for e in page.object_list],
            "filter_errors": filter_errors,
            "filtered": bool(query),
            "page_sizes": PAGE_SIZES,
        },
    )


def _csv_row(event: AuditEvent) -> list[Any]:
    return [
        event.pk,
        timezone.localtime(event.at).isoformat(timespec="seconds"),
        event.actor_name,
        event.action,
        event.target_type,
        event.target_id,
        json.dumps(event.data, ensure_ascii=False, sort_keys=True),
        event.hash,
    ]


@login_required
def audit_export(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    _require_admin(user)
    try:
        filters = parse_filters(request.GET)
    except AuditFilterError as exc:
        return HttpResponse(
            "; ".join(exc.errors.values()), status=400, content_type="text/plain; charset=utf-8"
        )
    exported = record_read(
        actor=user,
        action="audit.exported",
        target=user,
        data={"filters": filters.as_query(), "format": "csv"},
    )
    # The log as of this export, its own event included; later events wait for the next.
    rows = audit_log(filters).filter(id__lte=exported.pk)
    header = [
        _("Event"),
        _("Time"),
        _("Actor"),
        _("Action"),
        _("Target type"),
        _("Target id"),
        _("Data"),
        _("Hash"),
    ]

    def lines() -> Iterator[bytes]:
        for line in csv_lines(header, (_csv_row(e) for e in rows.iterator(chunk_size=2000))):
            yield line.encode("utf-8")

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
