"""Customer pages: list, detail with contacts and contracts, create, edit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from qiyue.contracts.queries import ContractFilters, contracts_for
from qiyue.parties.actions import PartyError, StaleEdit, add_contact, create_party, update_party
from qiyue.parties.models import Party
from qiyue.parties.queries import contacts_of, may, parties_for, party_for, party_options_for
from qiyue.web.forms import ContactForm, PartyForm, add_errors, party_initial
from qiyue.web.views.common import PAGE_SIZES, edit_response, paginate

CONTRACTS_ON_DETAIL = 50


@login_required
def party_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:200].strip()
    status = request.GET.get("status", "")
    if status not in Party.Status.values:
        status = ""
    page = paginate(request, parties_for(request.user, q=q, status=status))
    return render(
        request,
        "web/party_list.html",
        {
            "page": page,
            "parties": page.object_list,
            "q": q,
            "status": status,
            "statuses": Party.Status.choices,
            "page_sizes": PAGE_SIZES,
        },
    )


def _detail(request: HttpRequest, party: Party, contact_form: ContactForm) -> HttpResponse:
    user: Any = request.user
    contracts = contracts_for(user, ContractFilters(customer=party.pk))
    return render(
        request,
        "web/party_detail.html",
        {
            "p": party,
            "contacts": contacts_of(party),
            "contracts": contracts[:CONTRACTS_ON_DETAIL],
            "contract_count": contracts.count(),
            "can_edit": may(user, party, "change"),
            "can_create_contract": user.has_perm_code("contract.create"),
            "contact_form": contact_form,
        },
        status=400 if contact_form.errors else 200,
    )


@login_required
def party_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, party_for(request.user, pk), ContactForm())


@login_required
@require_POST
def party_add_contact(request: HttpRequest, pk: int) -> HttpResponse:
    party = party_for(request.user, pk, "change")
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            add_contact(actor=request.user, party=party, data=form.cleaned_data)  # type: ignore[arg-type]
        except PartyError as exc:
            add_errors(form, exc.errors)
        else:
            messages.success(request, _("Contact added."))
            return redirect("web:party_detail", pk=party.pk)
    return _detail(request, party, form)


@login_required
@require_http_methods(["GET", "POST"])
def party_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not user.has_perm_code("party.create"):
        raise Http404
    form = PartyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            party = create_party(actor=user, data=form.action_data())
        except PartyError as exc:
            add_errors(form, exc.errors)
        else:
            messages.success(request, _("Customer %(name)s created.") % {"name": party.name})
            return redirect("web:party_detail", pk=party.pk)
    return render(request, "web/party_form.html", {"form": form, "party": None})


@login_required
@require_http_methods(["GET", "POST"])
def party_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    party = party_for(user, pk, "change")
    form = PartyForm(
        request.POST if request.method == "POST" else None, initial=party_initial(party)
    )
    return edit_response(
        request,
        form,
        save=lambda version: update_party(
            actor=user, party=party, data=form.action_data(), version=version
        ),
        refused=PartyError,
        stale=StaleEdit,
        template="web/party_form.html",
        context={"party": party},
        saved_url=reverse("web:party_detail", args=[party.pk]),
    )


@login_required
def party_autocomplete(request: HttpRequest) -> HttpResponse:
    """<option>s of customers matching ``q``, for the htmx pickers of the contract form
    and of the contract filters (``all``: led by an "All customers" option)."""
    q = request.GET.get("q", "")[:100].strip()
    options = party_options_for(request.user, q=q, limit=30)
    if request.GET.get("all"):
        return render(request, "web/_options.html", {"options": options, "all": True})
    return render(request, "web/_options.html", {"options": options, "blank": not options})
