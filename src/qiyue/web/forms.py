"""Forms of the browser UI: rendering and basic parsing only. The actions validate
the values and their errors are mapped back onto these fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qiyue.contracts.lifecycle import ALWAYS_EDITABLE_FIELDS, EDITABLE_STATES
from qiyue.contracts.models import Confidentiality, Contract, ContractType, Relation
from qiyue.lib.money import CURRENCIES
from qiyue.parties.models import Party

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=100)


class ContractForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    contract_type = forms.ChoiceField(label=_("Type"))
    counterparty = forms.CharField(label=_("Customer"), widget=forms.Select)
    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "1200000.00"}),
    )
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[(c, c) for c in CURRENCIES], initial="CNY"
    )
    tax_rate = forms.CharField(
        label=_("Tax rate (%)"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    signed_date = forms.DateField(label=_("Signed on"), required=False, widget=DATE_WIDGET)
    effective_date = forms.DateField(label=_("Effective from"), required=False, widget=DATE_WIDGET)
    expiry_date = forms.DateField(label=_("Expires on"), required=False, widget=DATE_WIDGET)
    auto_renew = forms.BooleanField(label=_("Renews automatically"), required=False)
    renewal_term_months = forms.IntegerField(
        label=_("Renewal term (months)"), required=False, min_value=1, max_value=600
    )
    notice_period_days = forms.IntegerField(
        label=_("Notice period (days)"), required=False, min_value=0, max_value=3650
    )
    payment_terms = forms.CharField(
        label=_("Payment terms"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confidentiality = forms.ChoiceField(
        label=_("Confidentiality"), choices=Confidentiality.choices, initial="internal"
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=1100,
        help_text=_("Separate tags with commas."),
    )
    relation = forms.ChoiceField(label=_("Relation"), choices=Relation.choices, required=False)
    parent = forms.CharField(label=_("Related contract"), required=False, widget=forms.Select)
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        types: Iterable[ContractType],
        parties: Iterable[Party],
        parents: Iterable[Contract],
        contract: Contract | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        type_field = self.fields["contract_type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = [("", "—")] + [(str(t.pk), t.display_name) for t in types]
        self.fields["counterparty"].widget.choices = [("", "—")] + [
            (str(p.pk), p.name) for p in parties
        ]
        self.fields["parent"].widget.choices = [("", "—")] + [
            (str(c.pk), f"{c.number} {c.title}") for c in parents
        ]
        if contract is not None and contract.state not in EDITABLE_STATES:
            # Past the draft, only a few fields may change; the rest needs an amendment.
            for name, field in self.fields.items():
                if name not in ALWAYS_EDITABLE_FIELDS and name != "version":
                    field.disabled = True

    def action_data(self, *, only_changed: bool) -> dict[str, Any]:
        """The cleaned values in the shape the contract actions take."""
        names = [n for n in self.fields if n != "version"]
        if only_changed:
            names = [n for n in names if n in self.changed_data]
        return {n: self.cleaned_data[n] for n in names if n in self.cleaned_data}


def contract_initial(contract: Contract) -> dict[str, Any]:
    """The form's initial values, as strings where the form compares strings."""
    return {
        "title": contract.title,
        "contract_type": str(contract.contract_type_id),
        "counterparty": str(contract.counterparty_id),
        "amount": "" if contract.amount is None else str(contract.amount),
        "currency": contract.currency,
        "tax_rate": "" if contract.tax_rate is None else str(contract.tax_rate),
        "signed_date": contract.signed_date,
        "effective_date": contract.effective_date,
        "expiry_date": contract.expiry_date,
        "auto_renew": contract.auto_renew,
        "renewal_term_months": contract.renewal_term_months,
        "notice_period_days": contract.notice_period_days,
        "payment_terms": contract.payment_terms,
        "confidentiality": contract.confidentiality,
        "tags": ", ".join(t.name for t in contract.tags.all()),
        "relation": contract.relation,
        "parent": "" if contract.parent_id is None else str(contract.parent_id),
        "notes": contract.notes,
        "version": contract.version,
    }


class PartyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    short_name = forms.CharField(label=_("Short name"), required=False, max_length=100)
    credit_code = forms.CharField(
        label=_("Unified social credit code"), required=False, max_length=30
    )
    foreign_registration = forms.CharField(
        label=_("Foreign registration number"), required=False, max_length=64
    )
    address = forms.CharField(label=_("Address"), required=False, max_length=300)
    industry = forms.CharField(label=_("Industry"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), choices=Party.Status.choices, initial="active")
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def action_data(self) -> dict[str, Any]:
        return {n: v for n, v in self.cleaned_data.items() if n != "version"}


def party_initial(party: Party) -> dict[str, Any]:
    data = {n: getattr(party, n) for n in PartyForm.base_fields if n != "version"}
    data["version"] = party.version
    return data


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    title = forms.CharField(label=_("Title"), required=False, max_length=100)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    email = forms.EmailField(label=_("E-mail"), required=False)


def add_errors(form: forms.Form, errors: Mapping[str, Any]) -> None:
    """Put an action's error dict onto the form: known fields get theirs, the rest
    become errors of the whole form."""
    for name, message in errors.items():
        field = name if name in form.fields and name != "version" else None
        form.add_error(field, str(message))
