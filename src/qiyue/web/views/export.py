"""CSV export of the contract list, with the list's filters, as far as the user may export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.audit.actions import record_read
from qiyue.contracts.models import Contract
from qiyue.contracts.queries import FilterError, contracts_for_export, parse_filters
from qiyue.lib.csvsafe import csv_lines


def _row(c: Contract) -> list[Any]:
    return [
        c.number,
        c.title,
        c.counterparty.name,
        c.contract_type.display_name,
        c.get_state_display(),
        c.amount,
        c.currency,
        c.tax_rate,
        c.signed_date,
        c.effective_date,
        c.expiry_date,
        _("Yes") if c.auto_renew else _("No"),
        c.notice_period_days,
        str(c.owner),
        c.department.name if c.department else "",
        ", ".join(t.name for t in c.tags.all()),
    ]


@login_required
def contract_export(request: HttpRequest) -> HttpResponseBase:
    user: Any = request.user
    if not user.has_perm_code("contract.export"):
        return HttpResponse(status=404)
    try:
        filters = parse_filters(request.GET, user=user)
    except FilterError as exc:
        return HttpResponse(
            "; ".join(exc.errors.values()), status=400, content_type="text/plain; charset=utf-8"
        )
    rows = contracts_for_export(user, filters)
    # An export reads many records at once; it is audited like any read.
    record_read(
        actor=user,
        action="contract.exported",
        target=user,
        data={"filters": filters.as_query(), "format": "csv"},
    )
    header = [
        _("Number"),
        _("Title"),
        _("Customer"),
        _("Type"),
        _("State"),
        _("Amount"),
        _("Currency"),
        _("Tax rate (%)"),
        _("Signed on"),
        _("Effective from"),
        _("Expires on"),
        _("Renews automatically"),
        _("Notice period (days)"),
        _("Owner"),
        _("Department"),
        _("Tags"),
    ]

    def lines() -> Iterator[bytes]:
        for line in csv_lines(header, (_row(c) for c in rows.iterator(chunk_size=500))):
            yield line.encode("utf-8")

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="contracts-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
