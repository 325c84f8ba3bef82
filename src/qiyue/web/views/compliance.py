"""Compliance pages: the findings panel of a contract (with legal's acknowledgement),
and the administrators' rule editor and blocklist."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qiyue.accounts.queries import roles
from qiyue.compliance import actions, queries
from qiyue.compliance.checks import EXTRACTED_FIELDS, REQUIRED_FIELD_CHOICES
from qiyue.compliance.models import Rule, RuleKind, Severity
from qiyue.contracts.models import Confidentiality, ContractType
from qiyue.contracts.queries import contract_for
from qiyue.lib.money import CURRENCIES
from qiyue.web.forms import add_errors
from qiyue.web.views.common import PAGE_SIZES, as_id, flash_errors, paginate


class RuleForm(forms.Form):
    """The rule editor: parsing only; ``actions.clean_rule_data`` validates."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=RuleKind.choices)
    contract_type = forms.ChoiceField(label=gettext_lazy("Contract type"), required=False)
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity"), choices=Severity.choices, initial=Severity.MEDIUM
    )
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)
    message = forms.CharField(
        label=gettext_lazy("Hint shown with each finding"), max_length=300, required=False
    )
    keywords = forms.CharField(
        label=gettext_lazy("Keywords (one per line)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Required clause: any one of them counts as present. Prohibited term: each one found."
        ),
    )
    pattern = forms.CharField(
        label=gettext_lazy("Pattern (regular expression)"),
        required=False,
        max_length=300,
        help_text=gettext_lazy(
            "Optional; case-insensitive. Keep it simple: slow patterns are refused."
        ),
    )
    extracted_field = forms.ChoiceField(
        label=gettext_lazy("Or an extracted field must have a value"), required=False
    )
    confidentiality_levels = forms.MultipleChoiceField(
        label=gettext_lazy("Only for confidentiality levels (none: all)"),
        choices=Confidentiality.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    amount_limit = forms.CharField(
        label=gettext_lazy("Amount limit"),
        required=False,
        max_length=30,
        help_text=gettext_lazy(
            "Compared with the contract's amount as a number, whatever its currency."
        ),
    )
    approver_role = forms.ChoiceField(
        label=gettext_lazy("Approver role above the limit"), required=False
    )
    max_days = forms.CharField(
        label=gettext_lazy("Longest payment term (days)"), required=False, max_length=10
    )
    required_fields = forms.MultipleChoiceField(
        label=gettext_lazy("Required fields"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    allowed_currencies = forms.MultipleChoiceField(
        label=gettext_lazy("Allowed currencies"),
        choices=[(c, c) for c in CURRENCIES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types = ContractType.objects.filter(is_active=True).order_by("sort_order", "code")
        self.fields["contract_type"].choices = [("", _("All contract types"))] + [  # type: ignore[attr-defined]
            (str(t.pk), t.display_name) for t in types
        ]
        self.fields["extracted_field"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (k, str(v)) for k, v in EXTRACTED_FIELDS.items()
        ]
        self.fields["approver_role"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (r.code, r.display_name) for r in roles()
        ]
        self.fields["required_fields"].choices = [  # type: ignore[attr-defined]
            (k, str(v)) for k, v in REQUIRED_FIELD_CHOICES.items()
        ]


def _initial(rule: Rule) -> dict[str, Any]:
    return {**actions.rule_data(rule), "version": rule.version}


def _data(form: RuleForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data.pop("version", None)
    return data


# -- findings of a contract -----------------------------------------------------------


def _panel_context(user: Any, contract_id: int) -> dict[str, Any]:
    found = queries.findings_for(user, contract_id)
    return {
        "c": found.contract,
        "risk": found.risk,
        "findings": found.findings,
        "may_acknowledge": actions.may_acknowledge(user),
        "may_recheck": actions.may_recheck(user, contract_id),
    }


@login_required
@require_GET
def contract_findings(request: HttpRequest, pk: int) -> HttpResponse:
    """The findings panel (htmx fragment on the contract page) or a page of its own."""
    context = _panel_context(request.user, pk)
    if request.headers.get("HX-Request"):
        return render(request, "web/compliance/_panel.html", context)
    return render(request, "web/compliance/findings.html", context)


@login_required
@require_POST
def contract_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    found = queries.findings_for(request.user, pk)
    try:
        actions.acknowledge(
            actor=request.user,  # type: ignore[arg-type]
            contract=found.contract,
            note=request.POST.get("note", ""),
        )
    except actions.ComplianceError as exc:
        flash_errors(request, exc.errors)
    else:
        messages.success(request, _("High risk acknowledged."))
    return redirect("web:contract_detail", pk=pk)


@login_required
@require_POST
def contract_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    contract = contract_for(request.user, pk)
    try:
        actions.request_recheck(actor=request.user, contract_id=contract.pk)
    except actions.NotAllowed:
        raise Http404 from None
    messages.success(request, _("The compliance check was started."))
    return redirect("web:contract_detail", pk=pk)


# -- rules ----------------------------------------------------------------------------


@login_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    rules = queries.rules_for(request.user)
    page = paginate(request, rules)
    return render(
        request,
        "web/compliance/rule_list.html",
        {"page": page, "rules": page.object_list, "page_sizes": PAGE_SIZES},
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    queries.rules_for(request.user)  # 404 for anyone but administrators
    form = RuleForm(request.POST or None, initial={"severity": "medium", "enabled": True})
    if request.method == "POST" and form.is_valid():
        try:
            actions.create_rule(actor=request.user, data=_data(form))  # type: ignore[arg-type]
        except actions.ComplianceError as exc:
            add_errors(form, exc.errors)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("web:compliance_rules")
    status = 400 if request.method == "POST" else 200
    return render(request, "web/compliance/rule_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = queries.rule_for(request.user, pk)
    form = RuleForm(request.POST or None, initial=_initial(rule))
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_rule(
                actor=request.user,  # type: ignore[arg-type]
                rule=rule,
                data=_data(form),
                version=form.cleaned_data.get("version") or 0,
            )
        except actions.ComplianceError as exc:
            stale = isinstance(exc, actions.StaleEdit)
            add_errors(form, exc.errors)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("web:compliance_rules")
    status = 200 if request.method == "GET" else (409 if stale else 400)
    return render(
        request,
        "web/compliance/rule_form.html",
        {"form": form, "rule": rule, "stale": stale},
        status=status,
    )


@login_required
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = queries.rule_for(request.user, pk)
    try:
        actions.set_rule_enabled(
            actor=request.user,  # type: ignore[arg-type]
            rule=rule,
            enabled=not rule.enabled,
            version=as_id(request.POST.get("version")) or 0,
        )
    except actions.ComplianceError as exc:
        flash_errors(request, exc.errors)
    else:
        messages.success(request, _("Rule enabled.") if rule.enabled else _("Rule disabled."))
    return redirect("web:compliance_rules")


@login_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = queries.rule_for(request.user, pk)
    actions.delete_rule(actor=request.user, rule=rule)  # type: ignore[arg-type]
    messages.success(request, _("Rule deleted."))
    return redirect("web:compliance_rules")


# -- blocklist ------------------------------------------------------------------------


class BlocklistForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Company name"), max_length=200, required=False)
    credit_code = forms.CharField(
        label=gettext_lazy("Unified social credit code"), max_length=40, required=False
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, required=False)


@login_required
@require_http_methods(["GET", "POST"])
def blocklist(request: HttpRequest) -> HttpResponse:
    entries = queries.blocklist_for(request.user)
    form = BlocklistForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_blocklist_entry(actor=request.user, data=form.cleaned_data)  # type: ignore[arg-type]
        except actions.ComplianceError as exc:
            add_errors(form, exc.errors)
        else:
            messages.success(request, _("Added to the blocklist."))
            return redirect("web:compliance_blocklist")
    page = paginate(request, entries)
    return render(
        request,
        "web/compliance/blocklist.html",
        {"form": form, "page": page, "entries": page.object_list, "page_sizes": PAGE_SIZES},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def blocklist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    entry = queries.blocklist_entry_for(request.user, pk)
    actions.remove_blocklist_entry(actor=request.user, entry=entry)  # type: ignore[arg-type]
    messages.success(request, _("Removed from the blocklist."))
    return redirect("web:compliance_blocklist")
