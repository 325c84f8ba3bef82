"""Pages of contract review: the proposals panel of the contract page (its fragment for
htmx), decisions on proposals, and a proposal's evidence in the document's text."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qiyue.contracts.actions import ContractError
from qiyue.contracts.models import Contract
from qiyue.contracts.queries import contract_for, may_edit
from qiyue.review import actions, queries
from qiyue.review.mapping import LABELS, display
from qiyue.web.views.common import as_id


def panel_context(request: HttpRequest, contract: Contract, *, can_edit: bool) -> dict[str, Any]:
    """What ``web/review/_proposals.html`` needs (the contract page passes its own
    ``can_edit``, so the panel asks nothing the page already knows)."""
    data = queries.panel(request.user, contract, can_edit=can_edit)
    data["c"] = contract
    return data


@login_required
@require_GET
def contract_proposals(request: HttpRequest, pk: int) -> HttpResponse:
    """The panel alone: htmx polls it while the document is being read."""
    user: Any = request.user
    contract = contract_for(user, pk)
    can_edit = may_edit(user, contract)
    context = panel_context(request, contract, can_edit=can_edit)
    context["waiting"] = not context["rows"] and queries.waiting(contract)
    return render(request, "web/review/_proposals.html", context)


def _back(contract_id: int) -> str:
    return reverse("web:contract_detail", args=[contract_id]) + "#proposals"


def _refused(request: HttpRequest, exc: ContractError) -> None:
    for name, message in exc.errors.items():
        label = LABELS.get(name)
        messages.error(request, f"{label}: {message}" if label else message)


def _version(request: HttpRequest) -> int:
    return as_id(request.POST.get("version")) or 0


@login_required
@require_POST
def proposal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept (as proposed or edited: ``value``, ``currency``) or reject a proposal."""
    user: Any = request.user
    proposal = queries.proposal_for(user, pk)
    decision = request.POST.get("decision", "")
    label = LABELS.get(proposal.field, proposal.field)
    try:
        if decision == "reject":
            actions.reject_proposal(actor=user, proposal=proposal)
            messages.success(request, _("Proposal rejected: %(field)s.") % {"field": label})
        elif decision in {"accept", "edit"}:
            value: Any = None
            if decision == "edit" or proposal.field == "counterparty":
                value = request.POST.get("value", "")
                if proposal.field == "amount":
                    value = {"amount": value, "currency": request.POST.get("currency", "")}
            actions.accept_proposal(
                actor=user, proposal=proposal, version=_version(request), value=value
            )
            messages.success(request, _("Accepted: %(field)s.") % {"field": label})
        else:
            raise Http404
    except ContractError as exc:
        _refused(request, exc)
    return redirect(_back(proposal.contract_id))


@login_required
@require_POST
def proposals_accept_high(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept every high-confidence proposal of the contract in one edit."""
    user: Any = request.user
    contract = contract_for(user, pk)
    try:
        n = actions.accept_high_confidence(actor=user, contract=contract, version=_version(request))
    except ContractError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Accepted %(n)d proposals.") % {"n": n})
    return redirect(_back(contract.pk))


@login_required
@require_GET
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The proposal's evidence in the whole text of its document version."""
    user: Any = request.user
    proposal = queries.proposal_for(user, pk)
    context = {
        "p": proposal,
        "c": proposal.contract,
        "v": proposal.version,
        "d": proposal.version.document,
        "label": LABELS.get(proposal.field, proposal.field),
        "proposed": display(proposal.field, proposal.value),
        **queries.text_with_span(proposal),
    }
    return render(request, "web/review/proposal.html", context)
