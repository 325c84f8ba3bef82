"""Contract pages: list, detail, create, edit, lifecycle steps and sharing."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from qiyue.accounts.queries import active_users, departments
from qiyue.audit.actions import record_read
from qiyue.contracts.actions import (
    ContractError,
    StaleEdit,
    create_contract,
    share_contract,
    transition_contract,
    unshare_contract,
    update_contract,
)
from qiyue.contracts.lifecycle import TRANSITIONS
from qiyue.contracts.models import Contract, ContractState, Relation
from qiyue.contracts.queries import (
    SORTS,
    FilterError,
    available_transitions,
    contract_choices_for,
    contract_for,
    contract_types,
    contracts_for,
    history_for,
    may,
    may_edit,
    parse_filters,
    related_for,
    shares_of,
)
from qiyue.parties.queries import party_choices_for, party_for, party_options_for
from qiyue.web.forms import ContractForm, add_errors, contract_initial
from qiyue.web.history import describe
from qiyue.web.views.common import (
    PAGE_SIZES,
    as_id,
    edit_response,
    flash_errors,
    paginate_by_ids,
)
from qiyue.web.views.documents import documents_context

PICKER_LIMIT = 200


def filter_choices(request: HttpRequest) -> dict[str, Any]:
    """The choices of the contract filter form (``web/_contract_filters.html``), shared by
    the contract list and the search page; the customer filtered on is always among them."""
    return {
        "states": ContractState.choices,
        "types": list(contract_types()),
        "departments": list(departments()),
        "parties": party_options_for(
            request.user, limit=PICKER_LIMIT, chosen=as_id(request.GET.get("customer"))
        ),
    }


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    filter_errors: dict[str, str] = {}
    try:
        filters = parse_filters(request.GET, user=user)
    except FilterError as exc:
        filter_errors = exc.errors
        rows: Any = contracts_for(user).none()
        current_sort = "-created"
    else:
        rows = contracts_for(user, filters)
        current_sort = filters.sort
    page = paginate_by_ids(request, rows)
    selected_states = [s for s in request.GET.get("state", "").split(",") if s]
    return render(
        request,
        "web/contract_list.html",
        {
            "page": page,
            "contracts": page.object_list,
            "filter_errors": filter_errors,
            "current_sort": current_sort,
            "sort_keys": list(SORTS),
            **filter_choices(request),
            "selected_states": selected_states,
            "page_sizes": PAGE_SIZES,
            "filtered": any(
                request.GET.get(k) for k in request.GET if k not in {"page", "page_size", "sort"}
            ),
        },
    )


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    contract = contract_for(user, pk)
    record_read(actor=user, action="contract.viewed", target=contract)
    can_share = may(user, contract, "share")
    # Names for the ids in the history, as far as this page knows them.
    names = {
        "contract_type": {str(t.pk): t.display_name for t in contract_types()},
        "counterparty": {str(contract.counterparty_id): contract.counterparty.name},
        "owner": {str(contract.owner_id): str(contract.owner)},
        "parent": {str(contract.parent_id): contract.parent.number} if contract.parent else {},
    }
    context = {
        "c": contract,
        "related": related_for(user, contract),
        "history": describe(history_for(user, contract), names=names),
        "transitions": available_transitions(user, contract),
        "can_edit": may_edit(user, contract),
        "can_share": can_share,
        "can_create": user.has_perm_code("contract.create"),
        "relations": [r for r in Relation.choices if r[0]],
    }
    context.update(documents_context(user, contract))
    if can_share:
        context["shares"] = shares_of(contract)
        context["share_users"] = active_users().exclude(pk=contract.owner_id).order_by("username")
        context["share_departments"] = departments()
    return render(request, "web/contract_detail.html", context)


def _form(
    request: HttpRequest,
    *,
    contract: Contract | None,
    initial: dict[str, Any],
) -> ContractForm:
    """The contract form with the customers and related contracts the user may pick,
    always including the ones currently chosen."""
    user: Any = request.user
    data = request.POST if request.method == "POST" else None
    chosen_party = (data or initial).get("counterparty") or ""
    chosen_parent = (data or initial).get("parent") or ""
    parties = list(party_choices_for(user, limit=PICKER_LIMIT))
    party_id = as_id(chosen_party)
    if party_id is not None and all(p.pk != party_id for p in parties):
        with contextlib.suppress(Http404):
            parties.insert(0, party_for(user, party_id))
    parents = list(contract_choices_for(user, limit=50))
    if contract is not None:
        parents = [p for p in parents if p.pk != contract.pk]
    parent_id = as_id(chosen_parent)
    if parent_id is not None and all(p.pk != parent_id for p in parents):
        with contextlib.suppress(Http404):
            parents.insert(0, contract_for(user, parent_id))
    return ContractForm(
        data,
        initial=initial,
        types=contract_types(),
        parties=parties,
        parents=parents,
        contract=contract,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm_code("contract.create"):
        raise Http404
    initial: dict[str, Any] = {"currency": "CNY", "confidentiality": "internal"}
    for name in ("customer", "parent", "relation"):
        value = request.GET.get(name, "")
        if value:
            initial["counterparty" if name == "customer" else name] = value
    form = _form(request, contract=None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contract = create_contract(actor=user, data=form.action_data(only_changed=False))
        except ContractError as exc:
            add_errors(form, exc.errors)
        else:
            messages.success(
                request, _("Contract %(number)s created.") % {"number": contract.number}
            )
            return redirect("web:contract_detail", pk=contract.pk)
    return render(request, "web/contract_form.html", {"form": form, "contract": None})


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    contract = contract_for(user, pk, "change")
    form = _form(request, contract=contract, initial=contract_initial(contract))
    return edit_response(
        request,
        form,
        save=lambda version: update_contract(
            actor=user,
            contract=contract,
            data=form.action_data(only_changed=True),
            version=version,
        ),
        refused=ContractError,
        stale=StaleEdit,
        template="web/contract_form.html",
        context={"contract": contract},
        saved_url=reverse("web:contract_detail", args=[contract.pk]),
    )


@login_required
@require_POST
def contract_transition(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    contract = contract_for(user, pk)
    code = request.POST.get("code", "")
    try:
        transition_contract(
            actor=user,
            contract=contract,
            code=code[:40],
            comment=request.POST.get("comment", ""),
            signed_date=request.POST.get("signed_date") or None,
            version=as_id(request.POST.get("version")),
        )
    except ContractError as exc:
        flash_errors(request, exc.errors)
    else:
        messages.success(request, _("Done: %(step)s.") % {"step": TRANSITIONS[code].label})
    return redirect("web:contract_detail", pk=contract.pk)


@login_required
@require_POST
def contract_share(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    contract = contract_for(user, pk)
    target_user = target_dept = None
    user_id, dept_id = as_id(request.POST.get("user")), as_id(request.POST.get("department"))
    if user_id is not None:
        target_user = active_users().filter(pk=user_id).first()
    if dept_id is not None:
        target_dept = departments().filter(pk=dept_id).first()
    try:
        share_contract(
            actor=user,
            contract=contract,
            user=target_user,
            department=target_dept,
            can_edit=request.POST.get("can_edit") == "on",
        )
    except ContractError as exc:
        flash_errors(request, exc.errors)
    else:
        messages.success(request, _("Shared."))
    return redirect(reverse("web:contract_detail", args=[contract.pk]) + "#shares")


@login_required
@require_POST
def contract_unshare(request: HttpRequest, pk: int, share_pk: int) -> HttpResponse:
    user: Any = request.user
    contract = contract_for(user, pk)
    share = shares_of(contract).filter(pk=share_pk).first()
    if share is None:
        raise Http404
    try:
        unshare_contract(actor=user, share=share)
    except ContractError as exc:
        flash_errors(request, exc.errors)
    else:
        messages.success(request, _("No longer shared."))
    return redirect(reverse("web:contract_detail", args=[contract.pk]) + "#shares")


@login_required
def contract_autocomplete(request: HttpRequest) -> HttpResponse:
    """<option>s of related-contract candidates for the htmx search box."""
    q = request.GET.get("parent_q", "")[:100].strip()
    rows = contract_choices_for(request.user, q=q, limit=30)
    options = [(c.pk, f"{c.number} {c.title}") for c in rows]
    return render(request, "web/_options.html", {"options": options, "blank": True})
