"""Pages of a contract's money and duties (payment plan, payments, invoices,
obligations), its lifecycle flows (renew, amend, terminate, non-renewal notice), and
the receivables overview.

The contract page loads the money panel with htmx (``contract_money``), so the contract
page itself costs no extra query; without JavaScript the panel is its own page. Every
form posts to a small view that calls one action and goes back to the panel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiyue.contracts import flows
from qiyue.contracts.actions import ContractError
from qiyue.contracts.models import ContractState
from qiyue.contracts.queries import contract_for, may
from qiyue.obligations import actions
from qiyue.obligations import queries as q
from qiyue.obligations.models import (
    InvoiceKind,
    ObligationKind,
    PaymentMethod,
    Recurrence,
    Trigger,
)
from qiyue.web.views.common import PAGE_SIZES, as_id, flash_errors, paginate


def _user(request: HttpRequest) -> Any:
    return request.user


def _back(pk: int) -> HttpResponse:
    return redirect(reverse("web:contract_detail", args=[pk]) + "#money")


def _done(request: HttpRequest, pk: int, fn: Any, message: str) -> HttpResponse:
    """Run ``fn()`` (one action); show its refusal or ``message``; back to the panel."""
    try:
        fn()
    except ContractError as exc:
        flash_errors(request, exc.errors)
    else:
        messages.success(request, message)
    return _back(pk)


def _post(request: HttpRequest, *names: str) -> dict[str, str]:
    return {n: request.POST.get(n, "") for n in names}


@login_required
def contract_money(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    data = q.money_for(user, pk)
    c = data["contract"]
    data.update(
        q.lifecycle_for(user, c, instalments=data["instalments"], obligations=data["obligations"])
    )
    data.update(actions.money_rights(user, c))
    data.update(
        {
            "c": c,
            "may_terminate": c.state == "active" and may(user, c, "terminate"),
            "may_approve": may(user, c, "approve"),
            "triggers": Trigger.choices,
            "methods": PaymentMethod.choices,
            "invoice_kinds": InvoiceKind.choices,
            "obligation_kinds": ObligationKind.choices,
            "recurrences": Recurrence.choices,
            "amendable": flows.AMENDABLE_FIELDS,
            "today": timezone.localdate(),
        }
    )
    may_change = data["may_change"]
    data["can_renew"] = may_change and c.state in flows.RENEWABLE_STATES and not data["renewal"]
    data["can_amend"] = may_change and c.state in flows.AMENDABLE_STATES
    data["can_notice"] = (
        may_change and c.state == ContractState.ACTIVE and c.auto_renew and not data["notice"]
    )
    if request.headers.get("HX-Request"):
        return render(request, "web/obligations/_panel.html", data)
    return render(request, "web/obligations/contract_money.html", data)


@login_required
@require_POST
def instalment_add(request: HttpRequest, pk: int) -> HttpResponse:
    c = contract_for(request.user, pk)
    data = _post(request, "label", "amount", "percent", "trigger", "offset_days", "due_date")
    return _done(
        request,
        pk,
        lambda: actions.add_instalment(actor=_user(request), contract=c, data=data),
        _("Instalment added."),
    )


@login_required
@require_POST
def schedule_add(request: HttpRequest, pk: int) -> HttpResponse:
    c = contract_for(request.user, pk)
    p = _post(request, "label", "total", "first_due", "count", "every_months")
    return _done(
        request,
        pk,
        lambda: actions.add_schedule(
            actor=_user(request),
            contract=c,
            label=p["label"],
            total=p["total"],
            first_due=p["first_due"],
            count=p["count"] or "4",
            every_months=p["every_months"] or "3",
        ),
        _("Instalments added."),
    )


@login_required
@require_POST
def acceptance_record(request: HttpRequest, pk: int) -> HttpResponse:
    c = contract_for(request.user, pk)
    day = request.POST.get("accepted_on", "")
    return _done(
        request,
        pk,
        lambda: actions.record_acceptance(actor=_user(request), contract=c, accepted_on=day),
        _("Acceptance recorded; the instalments that waited for it now have due dates."),
    )


@login_required
@require_POST
def instalment_remove(request: HttpRequest, pk: int) -> HttpResponse:
    inst = q.instalment_for(request.user, pk)
    return _done(
        request,
        inst.contract_id,
        lambda: actions.remove_instalment(actor=_user(request), instalment=inst),
        _("Instalment removed."),
    )


@login_required
@require_POST
def payment_add(request: HttpRequest, pk: int) -> HttpResponse:
    c = contract_for(request.user, pk)
    p = _post(request, "amount", "received_on", "method", "reference", "note", "instalment")
    return _done(
        request,
        pk,
        lambda: actions.record_payment(
            actor=_user(request),
            contract=c,
            amount=p["amount"],
            received_on=p["received_on"],
            method=p["method"] or PaymentMethod.TRANSFER,
            reference=p["reference"],
            note=p["note"],
            instalment=p["instalment"] or None,
        ),
        _("Payment recorded."),
    )


@login_required
@require_POST
def invoice_add(request: HttpRequest, pk: int) -> HttpResponse:
    c = contract_for(request.user, pk)
    p = _post(request, "number", "kind", "amount", "tax", "issued_on", "instalment")
    planned = request.POST.get("planned") == "on"
    return _done(
        request,
        pk,
        lambda: actions.record_invoice(
            actor=_user(request),
            contract=c,
            number=p["number"],
            kind=p["kind"] or InvoiceKind.SPECIAL,
            amount=p["amount"],
            tax=p["tax"] or None,
            issued_on=p["issued_on"],
            instalment=p["instalment"] or None,
            planned=planned,
        ),
        _("Invoice planned.") if planned else _("Invoice recorded."),
    )


@login_required
@require_POST
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    inv = q.invoice_for(request.user, pk)
    p = _post(request, "number", "issued_on")
    return _done(
        request,
        inv.contract_id,
        lambda: actions.issue_invoice(
            actor=_user(request),
            invoice=inv,
            number=p["number"],
            issued_on=p["issued_on"],
        ),
        _("Invoice recorded."),
    )


@login_required
@require_POST
def invoice_void(request: HttpRequest, pk: int) -> HttpResponse:
    inv = q.invoice_for(request.user, pk)
    reason = request.POST.get("reason", "")
    return _done(
        request,
        inv.contract_id,
        lambda: actions.void_invoice(actor=_user(request), invoice=inv, reason=reason),
        _("Invoice voided."),
    )


@login_required
@require_POST
def obligation_add(request: HttpRequest, pk: int) -> HttpResponse:
    c = contract_for(request.user, pk)
    data = _post(request, "title", "kind", "owner", "due_date", "recurrence")
    return _done(
        request,
        pk,
        lambda: actions.add_obligation(actor=_user(request), contract=c, data=data),
        _("Obligation added."),
    )


@login_required
@require_POST
def obligation_complete(request: HttpRequest, pk: int) -> HttpResponse:
    ob = q.obligation_for(request.user, pk)
    upload = request.FILES.get("evidence")
    return _done(
        request,
        ob.contract_id,
        lambda: actions.complete_obligation(
            actor=_user(request),
            obligation=ob,
            done_on=request.POST.get("done_on") or None,
            evidence=upload,
            evidence_name=(upload.name or "") if upload else "",
        ),
        _("Obligation done."),
    )


# -- lifecycle flows ----------------------------------------------------------------------


def _decisions(request: HttpRequest, prefix: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for key, value in request.POST.items():
        if key.startswith(prefix):
            item = as_id(key[len(prefix) :])
            if item is not None:
                out[item] = str(value)
    return out


@login_required
@require_POST
def contract_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    c = contract_for(request.user, pk)
    p = _post(request, "reason", "effective_date", "settlement_notes")
    return _done(
        request,
        pk,
        lambda: flows.terminate_contract(
            actor=_user(request),
            contract=c,
            reason=p["reason"],
            effective_date=p["effective_date"],
            settlement_notes=p["settlement_notes"],
            instalments=_decisions(request, "instalment_"),
            obligations=_decisions(request, "obligation_"),
            version=as_id(request.POST.get("version")),
        ),
        _("Contract terminated."),
    )


@login_required
@require_POST
def contract_renew(request: HttpRequest, pk: int) -> HttpResponse:
    c = contract_for(request.user, pk)
    overrides = {k: v for k, v in _post(request, "amount", "expiry_date").items() if v}
    try:
        renewal = flows.renew_contract(actor=_user(request), contract=c, data=overrides)
    except ContractError as exc:
        flash_errors(request, exc.errors)
        return _back(pk)
    messages.success(
        request,
        _("Renewal %(number)s created as a draft; submit it for approval.")
        % {"number": renewal.number},
    )
    return redirect("web:contract_detail", pk=renewal.pk)


@login_required
@require_POST
def non_renewal_add(request: HttpRequest, pk: int) -> HttpResponse:
    c = contract_for(request.user, pk)
    p = _post(request, "given_by", "given_on", "note")
    return _done(
        request,
        pk,
        lambda: flows.record_non_renewal(
            actor=_user(request),
            contract=c,
            given_by=p["given_by"],
            given_on=p["given_on"],
            note=p["note"],
        ),
        _("Non-renewal notice recorded; the contract will expire at the end of its term."),
    )


@login_required
@require_POST
def amendment_add(request: HttpRequest, pk: int) -> HttpResponse:
    c = contract_for(request.user, pk)
    changes = {
        name: request.POST[f"new_{name}"]
        for name in flows.AMENDABLE_FIELDS
        if request.POST.get(f"new_{name}", "") != ""
    }
    return _done(
        request,
        pk,
        lambda: flows.propose_amendment(
            actor=_user(request),
            contract=c,
            title=request.POST.get("title", ""),
            reason=request.POST.get("reason", ""),
            changes=changes,
        ),
        _("Amendment recorded; it applies once approved."),
    )


@login_required
@require_POST
def amendment_decide(request: HttpRequest, pk: int) -> HttpResponse:
    amendment = q.amendment_for(request.user, pk)
    decide: Callable[..., Any]
    decision = request.POST.get("decision")
    if decision == "approve":
        decide, message = flows.approve_amendment, _("Amendment approved and applied.")
    elif decision == "reject":
        decide, message = flows.reject_amendment, _("Amendment rejected.")
    else:
        raise Http404
    comment = request.POST.get("comment", "")
    return _done(
        request,
        amendment.contract_id,
        lambda: decide(actor=_user(request), amendment=amendment, comment=comment),
        message,
    )


# -- receivables --------------------------------------------------------------------------

GROUPINGS = ("customer", "department", "contract")


@login_required
def receivables(request: HttpRequest) -> HttpResponse:
    by = request.GET.get("by", "customer")
    if by not in GROUPINGS:
        by = "customer"
    overdue_only = request.GET.get("overdue") == "1"
    page = paginate(request, q.receivables_for(request.user, by=by, overdue_only=overdue_only))
    return render(
        request,
        "web/obligations/receivables.html",
        {
            "page": page,
            "rows": page.object_list,
            "by": by,
            "groupings": [
                ("customer", _("Customer")),
                ("department", _("Department")),
                ("contract", _("Contract")),
            ],
            "overdue_only": overdue_only,
            "page_sizes": PAGE_SIZES,
        },
    )


@login_required
def receivables_block(request: HttpRequest) -> HttpResponse:
    """The home page's receivables block (loaded by htmx)."""
    return render(
        request,
        "web/obligations/_receivables_block.html",
        {"r": q.receivables_summary(request.user)},
    )
